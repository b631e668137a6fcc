/**
 * The log-history search as React state: waits `debounceMs` after the form last changed, asks the
 * API for the newest page, and `loadOlder` follows the page's `next`. A newer form (or leaving the
 * page) aborts the request in flight, so an old answer never overwrites a newer search.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { KilnClient } from "../../../src/client/api-client.ts";
import { searchLogs } from "../api.ts";
import { appendPage, formKey, isActive, NO_RESULTS, PAGE_LIMIT, searchParams, type SearchForm, type SearchResults } from "./search-model.ts";

export type SearchStatus = "idle" | "waiting" | "loading" | "done" | "error";

export interface LogSearchState {
  status: SearchStatus;
  results: SearchResults;
  error: unknown;
  loadOlder: () => void;
}

export function useLogSearch(client: KilnClient, deploymentId: string, form: SearchForm, debounceMs = 300): LogSearchState {
  const [status, setStatus] = useState<SearchStatus>("idle");
  const [results, setResults] = useState<SearchResults>(NO_RESULTS);
  const [error, setError] = useState<unknown>(null);
  const inFlight = useRef<AbortController | null>(null);
  const key = formKey(form);
  const active = isActive(form);
  const formRef = useRef(form);
  formRef.current = form;

  const run = useCallback(
    async (cursor: number | null, base: SearchResults) => {
      inFlight.current?.abort();
      const ctl = new AbortController();
      inFlight.current = ctl;
      setStatus("loading");
      const params = { ...searchParams(formRef.current, PAGE_LIMIT), ...(cursor !== null ? { cursor } : {}) };
      try {
        const page = await searchLogs(client, deploymentId, params, ctl.signal);
        if (ctl.signal.aborted) return;
        setResults(appendPage(base, page, PAGE_LIMIT));
        setError(null);
        setStatus("done");
      } catch (err) {
        if (ctl.signal.aborted) return;
        setError(err);
        setStatus("error");
      }
    },
    [client, deploymentId],
  );

  useEffect(() => {
    inFlight.current?.abort();
    setResults(NO_RESULTS);
    setError(null);
    if (!active) {
      setStatus("idle");
      return;
    }
    setStatus("waiting");
    const timer = setTimeout(() => void run(null, NO_RESULTS), debounceMs);
    return () => clearTimeout(timer);
  }, [key, active, run, debounceMs]);

  useEffect(() => () => inFlight.current?.abort(), []);

  const loadOlder = useCallback(() => {
    if (results.next !== null && status !== "loading") void run(results.next, results);
  }, [results, status, run]);

  return { status, results, error, loadOlder };
}

/**
 * Search of the whole stored log through the API (GET /deployments/:id/logs), beside the live view:
 * a text and an optional window (seq or time, checked by the API), the viewer's stream toggles,
 * results newest first with seq and time, "Load older" along the pages' `next`. A click on a result
 * asks the viewer to jump to it (`locate`); when the live view does not hold it, it is shown here
 * among its neighbours instead.
 */
import { useState } from "react";
import type { KilnClient } from "../../../src/client/api-client.ts";
import type { LogLine } from "../api.ts";
import { splitMatches, type Stream } from "../logs/log-filter.ts";
import { useLogSearch } from "../logs/search-hook.ts";
import { isActive, statusNote } from "../logs/search-model.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { LogContext } from "./LogContext.tsx";
import { LogStamp } from "./LogRow.tsx";

/** Where a result was found by the viewer: on screen now, or why not. */
export type Located = "shown" | "not loaded in the live view yet" | "hidden by the live view's filters";

export function LogSearchPanel({
  client,
  deploymentId,
  streams,
  locate,
}: {
  client: KilnClient;
  deploymentId: string;
  streams: Readonly<Record<Stream, boolean>>;
  locate: (line: LogLine) => Located;
}) {
  const [q, setQ] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [context, setContext] = useState<{ seq: number; why: string } | null>(null);
  const form = { q, since, until, streams };
  const { status, results, error, loadOlder } = useLogSearch(client, deploymentId, form);
  const active = isActive(form);
  const open = (line: LogLine) => {
    const where = locate(line);
    setContext(where === "shown" ? null : { seq: line.seq, why: where });
  };

  return (
    <div className="log-history" role="search" aria-label="Search the stored log">
      <div className="log-history-form">
        <label className="logs-search">
          <span className="visually-hidden">Search log history</span>
          <input type="search" placeholder="Search history…" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <label className="log-history-bound">
          <span>From</span>
          <input type="text" placeholder="seq or 2026-12-01T10:00Z" value={since} onChange={(e) => setSince(e.target.value)} aria-label="From (seq or time)" />
        </label>
        <label className="log-history-bound">
          <span>To</span>
          <input type="text" placeholder="seq or time" value={until} onChange={(e) => setUntil(e.target.value)} aria-label="To (seq or time)" />
        </label>
      </div>
      {active && (
        <div className="log-history-results">
          {results.lines.length > 0 && (
            <ol className="search-hits" data-testid="search-results" aria-label="Search results, newest first">
              {results.lines.map((l) => (
                <li key={l.seq}>
                  <button type="button" className={`search-hit stream-${l.stream}`} data-seq={l.seq} onClick={() => open(l)} title="Show this line in the log">
                    <LogStamp line={l} />
                    <span className="log-text">
                      {splitMatches(l.text, q.trim()).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
                    </span>
                  </button>
                </li>
              ))}
            </ol>
          )}
          <ErrorNotice error={error} title="Search failed" />
          <div className="log-history-status">
            <span data-testid="search-status" aria-live="polite">
              {status === "waiting" || (status === "loading" && results.pages === 0) ? "Searching…" : status === "error" && results.pages === 0 ? "" : statusNote(results)}
            </span>
            {results.next !== null && results.pages > 0 && (
              <button type="button" className="button small" onClick={loadOlder} disabled={status === "loading"}>
                {status === "loading" ? "Loading…" : "Load older"}
              </button>
            )}
          </div>
        </div>
      )}
      {!active && !Object.values(streams).some(Boolean) && (q || since || until) && <p className="muted log-history-status">Switch a stream on to search.</p>}
      {context && <LogContext client={client} deploymentId={deploymentId} seq={context.seq} why={context.why} onClose={() => setContext(null)} />}
    </div>
  );
}

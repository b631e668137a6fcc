/**
 * The log-history search's pure side: the form turned into the API's query (GET
 * /api/v1/deployments/:id/logs, src/logs/search-query.ts), pages folded into one newest-first
 * result list, what to say about where the search stands, and where a result sits in the live view.
 */
import type { LogLine } from "../api.ts";
import { STREAMS, type Stream } from "./log-filter.ts";

/** What the user typed: `since`/`until` are passed as given (a seq or an ISO time; the API checks them). */
export interface SearchForm {
  q: string;
  since: string;
  until: string;
  streams: Readonly<Record<Stream, boolean>>;
}

/** The query string's parameters, as the API names them. */
export interface SearchParams {
  q?: string;
  since?: string;
  until?: string;
  stream?: string;
  limit?: number;
  cursor?: number;
}

/** One page as the API answers it. */
export interface SearchPage {
  lines: LogLine[];
  next: number | null;
  scanned: number;
}

export const PAGE_LIMIT = 100;

/** Whether the form asks for anything: a text, or a time/seq window. No stream switched on asks for nothing. */
export function isActive(f: SearchForm): boolean {
  if (!STREAMS.some((s) => f.streams[s])) return false;
  return f.q.trim() !== "" || f.since.trim() !== "" || f.until.trim() !== "";
}

/** The form as the API's parameters (a stream list only when some stream is off). */
export function searchParams(f: SearchForm, limit = PAGE_LIMIT): SearchParams {
  const p: SearchParams = { limit };
  const q = f.q.trim();
  if (q) p.q = q;
  if (f.since.trim()) p.since = f.since.trim();
  if (f.until.trim()) p.until = f.until.trim();
  const on = STREAMS.filter((s) => f.streams[s]);
  if (on.length < STREAMS.length) p.stream = on.join(",");
  return p;
}

/** `?q=…&limit=…` for the parameters that are set. */
export function queryString(p: SearchParams): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

/** A stable key of the form: a new key starts a new search. */
export function formKey(f: SearchForm): string {
  return JSON.stringify(searchParams(f));
}

/** The results so far: every page's lines, newest first, and where the next page starts. */
export interface SearchResults {
  lines: LogLine[];
  /** Pass as cursor for older lines; null when nothing older can match. */
  next: number | null;
  /** Stored lines examined over all pages. */
  scanned: number;
  /** The last page came back with fewer lines than asked and a `next`: the scan budget ran out, older lines may match. */
  budgetStop: boolean;
  pages: number;
}

export const NO_RESULTS: SearchResults = { lines: [], next: null, scanned: 0, budgetStop: false, pages: 0 };

/** Adds an older page (the API's pages never overlap; a repeated seq is dropped all the same). */
export function appendPage(r: SearchResults, page: SearchPage, limit: number): SearchResults {
  const oldest = r.lines.length ? r.lines[r.lines.length - 1]!.seq : Infinity;
  const older = page.lines.filter((l) => l.seq < oldest);
  return {
    lines: r.lines.concat(older),
    next: page.next,
    scanned: r.scanned + page.scanned,
    budgetStop: page.next !== null && page.lines.length < limit,
    pages: r.pages + 1,
  };
}

/** One sentence on where the search stands, under the results. */
export function statusNote(r: SearchResults): string {
  const n = r.lines.length;
  const found = n === 0 ? "No stored line matches" : `${n.toLocaleString("en-US")} ${n === 1 ? "match" : "matches"}`;
  if (r.next === null) return n === 0 ? `${found}.` : `${found}, back to the start of the log.`;
  if (r.budgetStop) {
    return `${found} so far: this page stopped after examining ${r.scanned.toLocaleString("en-US")} stored lines (the per-page scan limit), so older lines may still match. Load older to keep looking.`;
  }
  return `${found} so far; older lines may match.`;
}

/** Index of `seq` in lines sorted by seq, or -1. */
export function seqIndex(lines: readonly LogLine[], seq: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = lines[mid]!.seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index of `value` in an ascending number array, or -1 (the viewer's row of a buffer index). */
export function sortedIndex(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = values[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The window of lines around `seq` (all streams), asked of the same API by seq bounds. */
export function contextParams(seq: number, radius: number): SearchParams {
  return { since: String(Math.max(1, seq - radius)), until: String(seq + radius), limit: 2 * radius + 1 };
}

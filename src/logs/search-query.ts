/**
 * The log search's query string, checked and turned into a LogSearch (the store's form).
 *
 *   ?q=timeout&since=2026-12-01T10:00:00Z&until=5000&stream=runtime,system&limit=50&cursor=4711
 *
 * q: substring of the text, case-insensitive (≤ 256 characters). since/until: inclusive bounds,
 * each a seq (digits) or an ISO 8601 time. stream: comma list of streams. limit: 1–1000,
 * default 100. cursor: the `next` of the previous page. Anything else is a 400 saying what to fix.
 */
import { badRequest } from "../core/errors.ts";
import type { LogStream } from "../core/logs.ts";
import type { LogSearch } from "../core/ports/store.ts";

export const LOG_STREAMS = ["build", "runtime", "system"] as const satisfies readonly LogStream[];
// Fails to compile when a stream is added to LogStream but not here.
const everyStream: Record<Exclude<LogStream, (typeof LOG_STREAMS)[number]>, never> = {};
void everyStream;

export const SEARCH_PARAMS = ["q", "since", "until", "stream", "limit", "cursor"] as const;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
export const MAX_Q = 256;
const SEQ = /^\d{1,15}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const TIME_HINT = "give a seq (e.g. 1200) or an ISO 8601 time (e.g. 2026-12-01T10:00:00Z)";

/** `query`: every query parameter, as given (`token` is the WebSocket's and ignored here). */
export function parseLogSearch(query: Record<string, string>): LogSearch {
  for (const key of Object.keys(query)) {
    if (key !== "token" && !(SEARCH_PARAMS as readonly string[]).includes(key)) {
      throw badRequest(`unknown parameter "${key}"`, `use ${SEARCH_PARAMS.join(", ")}`);
    }
  }
  const search: LogSearch = { limit: DEFAULT_LIMIT };
  const { q, since, until, stream, limit, cursor } = query;
  if (q !== undefined && q !== "") {
    if (q.length > MAX_Q) throw badRequest(`q is ${q.length} characters long`, `search for at most ${MAX_Q} characters`);
    search.text = q;
  }
  if (since !== undefined) Object.assign(search, bound("since", since));
  if (until !== undefined) Object.assign(search, bound("until", until));
  if (stream !== undefined) {
    const names = stream.split(",");
    const unknown = names.filter((s) => !(LOG_STREAMS as readonly string[]).includes(s));
    if (unknown.length) throw badRequest(`unknown stream "${unknown[0]}"`, `use one or more of ${LOG_STREAMS.join(", ")}, comma-separated`);
    search.streams = names as LogStream[];
  }
  if (limit !== undefined) {
    const n = /^\d{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) throw badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}, not "${limit}"`, `omit it for ${DEFAULT_LIMIT}`);
    search.limit = n;
  }
  if (cursor !== undefined) {
    if (!SEQ.test(cursor) || Number(cursor) < 1) throw badRequest(`cursor must be the "next" of a previous page, not "${cursor}"`, "pass the next value back unchanged");
    search.before = Number(cursor);
  }
  return search;
}

function bound(name: "since" | "until", value: string): Partial<LogSearch> {
  if (SEQ.test(value)) return name === "since" ? { sinceSeq: Number(value) } : { untilSeq: Number(value) };
  const ts = ISO_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ts)) throw badRequest(`${name} "${value}" is neither a seq nor a time`, TIME_HINT);
  return name === "since" ? { sinceTs: ts } : { untilTs: ts };
}

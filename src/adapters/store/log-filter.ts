/**
 * What a log search (LogSearch, src/core/ports/store.ts) accepts, as bounds and one line test,
 * shared by the chunks' search (sqlite-logs.ts) and the offloaded segments' (src/logs/tiered-logs.ts)
 * so both tiers answer alike. Pure.
 */
import type { LogLine } from "../../core/logs.ts";
import type { LogSearch } from "../../core/ports/store.ts";
import { chunkText, unpackLines } from "./log-codec.ts";
import { decodeLines } from "./rows.ts";

const MAX = Number.MAX_SAFE_INTEGER;

export interface LogFilter {
  /** Inclusive seq bounds (`before` folded in). */
  lower: number;
  upper: number;
  sinceTs: number;
  untilTs: number;
  kinds: ReadonlySet<string> | null;
  /**
   * A plain-ASCII needle without `"` or `\` reads the same in a chunk's JSON, so a chunk whose text
   * fails this holds no match; null when that shortcut does not apply.
   */
  wholeChunkTest: RegExp | null;
  matches(line: LogLine): boolean;
}

export function logFilter(q: LogSearch): LogFilter {
  const lower = Math.max(1, q.sinceSeq ?? 1);
  const upper = Math.min(q.untilSeq ?? MAX, (q.before ?? MAX + 1) - 1);
  const sinceTs = q.sinceTs ?? -MAX;
  const untilTs = q.untilTs ?? MAX;
  const kinds = q.streams?.length ? new Set<string>(q.streams) : null;
  const needle = q.text ? new RegExp(q.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i") : null;
  const wholeChunkTest = needle && /^[\x20-\x7e]+$/.test(q.text!) && !/["\\]/.test(q.text!) ? needle : null;
  return {
    lower,
    upper,
    sinceTs,
    untilTs,
    kinds,
    wholeChunkTest,
    matches: (line) =>
      line.seq <= upper &&
      line.seq >= lower &&
      line.ts >= sinceTs &&
      line.ts <= untilTs &&
      (!kinds || kinds.has(line.stream)) &&
      (!needle || needle.test(line.text)),
  };
}

/**
 * The lines of a stored chunk a search must test: none when the whole-chunk test rules the chunk
 * out (its JSON text lacks the needle), else all of them, decoded once.
 */
export function chunkCandidates(f: LogFilter, codec: string, body: string | Uint8Array): LogLine[] {
  if (!f.wholeChunkTest) return unpackLines(codec, body);
  const text = chunkText(codec, body);
  return f.wholeChunkTest.test(text) ? decodeLines(text) : [];
}

/**
 * What a log search (LogSearch, src/core/ports/store.ts) accepts, as bounds and one line test,
 * shared by the chunks' search (sqlite-logs.ts) and the offloaded segments' (src/logs/tiered-logs.ts)
 * so both tiers answer alike. Pure.
 */
import type { LogLine } from "../../core/logs.ts";
import type { LogPage, LogSearch } from "../../core/ports/store.ts";
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

/**
 * One search page filled from chunks examined newest first — the same steps for the SQLite,
 * Postgres and offloaded-segment searches: stop at `limit` matches, or before a chunk once
 * `budget` lines were examined (its `next` then starts with that chunk). `upper` may be lower
 * than the filter's (the offloaded search stops below the first hot seq); `from` carries on a
 * page another tier began.
 */
export class ChunkScan {
  readonly #lines: LogLine[];
  #scanned: number;

  constructor(
    private readonly f: LogFilter,
    private readonly limit: number,
    private readonly budget: number,
    private readonly upper = f.upper,
    from?: LogPage,
  ) {
    this.#lines = from ? [...from.lines] : [];
    this.#scanned = from?.scanned ?? 0;
  }

  /** Examines one chunk: the finished page when the page is complete, else null (go on). */
  take(firstSeq: number, lastSeq: number, codec: string, body: string | Uint8Array): LogPage | null {
    if (this.#scanned >= this.budget) return { lines: this.#lines, next: Math.min(lastSeq, this.upper) + 1, scanned: this.#scanned };
    this.#scanned += lastSeq - firstSeq + 1;
    const lines = chunkCandidates(this.f, codec, body);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (line.seq > this.upper || !this.f.matches(line)) continue;
      this.#lines.push(line);
      if (this.#lines.length >= this.limit) return { lines: this.#lines, next: line.seq > this.f.lower ? line.seq : null, scanned: this.#scanned };
    }
    return null;
  }

  /** Every chunk examined: the page, with nothing older to match. */
  end(): LogPage {
    return { lines: this.#lines, next: null, scanned: this.#scanned };
  }
}

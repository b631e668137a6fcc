/**
 * Log chunks in SQLite: one row per chunk of lines (the bus writes up to 256 a chunk), zstd-
 * compressed (log-codec.ts), with the chunk's seq and time span, the streams it holds (`kinds`)
 * and its stored size, so a search skips chunks by index and retention counts bytes without
 * reading bodies.
 *
 * Search reads chunks newest first and stops at `limit` matches or after `scanBudget` lines
 * examined, whichever comes first; its `next` then resumes below what it examined. That bounds
 * the cost of one request whatever the history holds. For a plain-ASCII needle a chunk is first
 * tested whole (its JSON text) and parsed only when it may hold a match.
 *
 * Retention never removes a stream's newest chunk: the bus numbers on from the stored last seq.
 */
import type { Database } from "bun:sqlite";
import { conflict } from "../../core/errors.ts";
import type { LogLine, SourceMark, StreamKey } from "../../core/logs.ts";
import type { LogArchive, LogSources, LogPage, LogPruned, LogSearch, LogUsage } from "../../core/ports/store.ts";
import { chunkSpan, packLines, unpackLines } from "./log-codec.ts";
import { ChunkScan, logFilter } from "./log-filter.ts";
import { sqliteCode } from "./sql.ts";

/** Lines one search examines at most, unless the caller says otherwise. */
export const DEFAULT_SCAN_BUDGET = 1_000_000;

/**
 * From the chunk holding the seq on, along the primary key: chunks never overlap. (A filter on
 * last_seq would sort every later chunk, bodies and all, on each call: quadratic over a replay.)
 */
export const READ_SQL = `SELECT first_seq, last_seq, codec, lines FROM log_chunks
  WHERE stream = ? AND first_seq >= COALESCE((SELECT MAX(first_seq) FROM log_chunks WHERE stream = ? AND first_seq <= ?), ?)
  ORDER BY first_seq`;

/** Newest first along the primary key; the span columns skip chunks without reading their bodies. */
export const searchSql = (streamFilter: string) => `SELECT first_seq, last_seq, codec, lines FROM log_chunks
  WHERE stream = ? AND first_seq <= ? AND last_seq >= ?
    AND (max_ts IS NULL OR max_ts >= ?) AND (min_ts IS NULL OR min_ts <= ?)${streamFilter}
  ORDER BY first_seq DESC`;

interface ChunkRow {
  first_seq: number;
  last_seq: number;
  codec: string;
  lines: string | Uint8Array;
}

export class SqliteLogs implements LogArchive, LogSources {
  constructor(private readonly db: Database) {}

  async appendChunk(stream: StreamKey, lines: LogLine[], marks: readonly SourceMark[] = []): Promise<void> {
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (!first || !last) return;
    const { codec, body } = packLines(lines);
    const span = chunkSpan(lines);
    try {
      const insert = () => {
        this.db
          .query("INSERT INTO log_chunks (stream, first_seq, last_seq, lines, codec, min_ts, max_ts, kinds, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(stream, first.seq, last.seq, body, codec, span.minTs, span.maxTs, span.kinds, body.byteLength);
        const mark = this.db.query("INSERT OR REPLACE INTO log_sources (container, output, stream, ns, count) VALUES (?, ?, ?, ?, ?)");
        for (const m of marks) mark.run(m.container, m.output, stream, m.ns.toString(), m.count);
      };
      if (marks.length === 0) insert();
      else this.db.transaction(insert).immediate();
    } catch (err) {
      if (sqliteCode(err) === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw conflict(`log lines from seq ${first.seq} of stream ${stream} are already stored`);
      }
      throw err;
    }
  }

  async read(stream: StreamKey, sinceSeq: number, limit: number): Promise<LogLine[]> {
    const out: LogLine[] = [];
    if (!(limit > 0)) return out;
    const chunks = this.db.query<ChunkRow, [string, string, number, number]>(READ_SQL).iterate(stream, stream, sinceSeq, sinceSeq);
    for (const chunk of chunks) {
      for (const line of unpackLines(chunk.codec, chunk.lines)) {
        if (line.seq < sinceSeq) continue;
        out.push(line);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async lastSeq(stream: StreamKey): Promise<number> {
    const row = this.db
      .query<{ last: number | null }, [string]>("SELECT MAX(last_seq) AS last FROM log_chunks WHERE stream = ?")
      .get(stream);
    return row?.last ?? 0;
  }

  async deleteFor(stream: StreamKey): Promise<void> {
    this.db.transaction(() => {
      this.db.query("DELETE FROM log_chunks WHERE stream = ?").run(stream);
      this.db.query("DELETE FROM log_sources WHERE stream = ?").run(stream);
    }).immediate();
  }

  async sourceMarks(container: string): Promise<{ marks: SourceMark[]; keptSince: number }> {
    const rows = this.db
      .query<{ output: string; ns: string; count: number }, [string]>("SELECT output, ns, count FROM log_sources WHERE container = ? ORDER BY output")
      .all(container);
    const since = this.db.query<{ at: number }, []>("SELECT applied_at AS at FROM schema_migrations WHERE id = 10").get();
    return {
      marks: rows.filter((r) => r.output === "stdout" || r.output === "stderr").map((r) => ({ container, output: r.output as SourceMark["output"], ns: BigInt(r.ns), count: r.count })),
      keptSince: since?.at ?? 0,
    };
  }

  async forgetSource(container: string): Promise<void> {
    this.db.query("DELETE FROM log_sources WHERE container = ?").run(container);
  }

  async search(stream: StreamKey, q: LogSearch): Promise<LogPage> {
    const f = logFilter(q);
    const { lower, upper, sinceTs, untilTs, kinds } = f;
    const scan = new ChunkScan(f, q.limit, q.scanBudget ?? DEFAULT_SCAN_BUDGET);
    if (upper < lower || q.limit <= 0) return scan.end();
    const streamSql = kinds ? ` AND (kinds IS NULL OR ${[...kinds].map(() => "kinds LIKE ?").join(" OR ")})` : "";
    const chunks = this.db
      .query<ChunkRow, Array<string | number>>(searchSql(streamSql))
      .iterate(stream, upper, lower, sinceTs, untilTs, ...[...(kinds ?? [])].map((k) => `%,${k},%`));
    for (const chunk of chunks) {
      const page = scan.take(chunk.first_seq, chunk.last_seq, chunk.codec, chunk.lines);
      if (page) return page;
    }
    return scan.end();
  }

  async usage(): Promise<LogUsage[]> {
    return this.db
      .query<LogUsage, []>(
        "SELECT stream, SUM(COALESCE(bytes, LENGTH(lines))) AS bytes, SUM(last_seq - first_seq + 1) AS lines FROM log_chunks GROUP BY stream ORDER BY stream",
      )
      .all();
  }

  async prune(stream: StreamKey, limits: { before: number; maxBytes: number }): Promise<LogPruned> {
    return this.db.transaction((): LogPruned => {
      const newest = this.db.query<{ f: number | null }, [string]>("SELECT MAX(first_seq) AS f FROM log_chunks WHERE stream = ?").get(stream)?.f;
      if (newest == null) return { lines: 0, bytes: 0, throughSeq: 0 };
      const rows = this.db
        .query<{ first_seq: number; last_seq: number; max_ts: number | null; bytes: number }, [string, number]>(
          "SELECT first_seq, last_seq, max_ts, COALESCE(bytes, LENGTH(lines)) AS bytes FROM log_chunks WHERE stream = ? AND first_seq < ? ORDER BY first_seq",
        )
        .all(stream, newest);
      let kept = this.db.query<{ b: number }, [string]>("SELECT SUM(COALESCE(bytes, LENGTH(lines))) AS b FROM log_chunks WHERE stream = ?").get(stream)?.b ?? 0;
      const pruned: LogPruned = { lines: 0, bytes: 0, throughSeq: 0 };
      // Oldest first: a chunk goes while it is too old or the stream is over its size.
      for (const row of rows) {
        const tooOld = row.max_ts != null && row.max_ts < limits.before;
        if (!tooOld && kept <= limits.maxBytes) break;
        kept -= row.bytes;
        pruned.lines += row.last_seq - row.first_seq + 1;
        pruned.bytes += row.bytes;
        pruned.throughSeq = row.last_seq;
      }
      if (pruned.throughSeq > 0) this.db.query("DELETE FROM log_chunks WHERE stream = ? AND last_seq <= ?").run(stream, pruned.throughSeq);
      return pruned;
    }).immediate();
  }
}

/** Fills the columns migration 8 added (and compresses) for chunks written before it. */
export function describeOldChunks(db: Database): void {
  const old = db.query<ChunkRow & { stream: string }, []>("SELECT stream, first_seq, last_seq, codec, lines FROM log_chunks WHERE kinds IS NULL").all();
  if (old.length === 0) return;
  const update = db.query("UPDATE log_chunks SET lines = ?, codec = ?, min_ts = ?, max_ts = ?, kinds = ?, bytes = ? WHERE stream = ? AND first_seq = ?");
  db.transaction(() => {
    for (const row of old) {
      const lines = unpackLines(row.codec, row.lines);
      const { codec, body } = packLines(lines);
      const span = chunkSpan(lines);
      update.run(body, codec, span.minTs, span.maxTs, span.kinds, body.byteLength, row.stream, row.first_seq);
    }
  }).immediate();
}

/**
 * Log chunks in Postgres: the same rows as SQLite (sqlite-logs.ts: zstd bodies, now in a BYTEA;
 * seq and time span, `kinds`, stored size) and the same queries, read in pages of chunks rather
 * than a cursor so one read or search holds no connection between pages. Search answers alike
 * (newest first, `limit` or `scanBudget`, whichever comes first). A stream's prune holds the
 * stream's advisory lock, as an offload's commit does, so two Kilns never interleave on one stream.
 * Retention never removes a stream's newest chunk: the bus numbers on from the stored last seq.
 */
import { conflict } from "../../core/errors.ts";
import type { LogLine, SourceMark, StreamKey } from "../../core/logs.ts";
import type { LogArchive, LogPage, LogPruned, LogSearch, LogSources, LogUsage } from "../../core/ports/store.ts";
import { chunkSpan, packLines, unpackLines } from "./log-codec.ts";
import { ChunkScan, logFilter } from "./log-filter.ts";
import { ints, isPrimaryKeyViolation, LOCK, lockFor, one, rows, run, type Pg } from "./postgres-sql.ts";
import { DEFAULT_SCAN_BUDGET, READ_SQL, searchSql } from "./sqlite-logs.ts";

/** Chunks fetched a page (a chunk holds up to 256 lines). */
const PAGE = 64;

interface ChunkRow {
  first_seq: number;
  last_seq: number;
  codec: string;
  lines: Uint8Array;
}

const toChunk = (r: ChunkRow) => ints(r, ["first_seq", "last_seq"]);

export class PgLogs implements LogArchive, LogSources {
  constructor(private readonly db: Pg) {}

  async appendChunk(stream: StreamKey, lines: LogLine[], marks: readonly SourceMark[] = []): Promise<void> {
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (!first || !last) return;
    const { codec, body } = packLines(lines);
    const span = chunkSpan(lines);
    const insert = async (db: Pg) => {
      await run(db, "INSERT INTO log_chunks (stream, first_seq, last_seq, lines, codec, min_ts, max_ts, kinds, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        stream, first.seq, last.seq, body, codec, span.minTs, span.maxTs, span.kinds, body.byteLength,
      ]);
      for (const m of marks) {
        await run(
          db,
          `INSERT INTO log_sources (container, output, stream, ns, count) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (container, output) DO UPDATE SET stream = EXCLUDED.stream, ns = EXCLUDED.ns, count = EXCLUDED.count`,
          [m.container, m.output, stream, m.ns.toString(), m.count],
        );
      }
    };
    try {
      if (marks.length === 0) await insert(this.db);
      else await this.db.begin(insert);
    } catch (err) {
      if (isPrimaryKeyViolation(err)) throw conflict(`log lines from seq ${first.seq} of stream ${stream} are already stored`);
      throw err;
    }
  }

  async read(stream: StreamKey, sinceSeq: number, limit: number): Promise<LogLine[]> {
    const out: LogLine[] = [];
    if (!(limit > 0)) return out;
    let page = await rows<ChunkRow>(this.db, `${READ_SQL} LIMIT ?`, [stream, stream, sinceSeq, sinceSeq, PAGE]);
    while (page.length > 0) {
      for (const chunk of page.map(toChunk)) {
        for (const line of unpackLines(chunk.codec, chunk.lines)) {
          if (line.seq < sinceSeq) continue;
          out.push(line);
          if (out.length >= limit) return out;
        }
      }
      if (page.length < PAGE) break;
      const after = Number(page[page.length - 1]!.first_seq);
      page = await rows<ChunkRow>(this.db, "SELECT first_seq, last_seq, codec, lines FROM log_chunks WHERE stream = ? AND first_seq > ? ORDER BY first_seq LIMIT ?", [stream, after, PAGE]);
    }
    return out;
  }

  async lastSeq(stream: StreamKey): Promise<number> {
    const row = await one<{ last: string | null }>(this.db, "SELECT MAX(last_seq) AS last FROM log_chunks WHERE stream = ?", [stream]);
    return Number(row?.last ?? 0);
  }

  async deleteFor(stream: StreamKey): Promise<void> {
    await this.db.begin(async (tx) => {
      await run(tx, "DELETE FROM log_chunks WHERE stream = ?", [stream]);
      await run(tx, "DELETE FROM log_sources WHERE stream = ?", [stream]);
    });
  }

  async sourceMarks(container: string): Promise<{ marks: SourceMark[]; keptSince: number }> {
    const found = await rows<{ output: string; ns: string; count: string }>(this.db, "SELECT output, ns, count FROM log_sources WHERE container = ? ORDER BY output", [container]);
    const since = await one<{ at: string }>(this.db, "SELECT applied_at AS at FROM schema_migrations WHERE id = 10");
    return {
      marks: found
        .filter((r) => r.output === "stdout" || r.output === "stderr")
        .map((r) => ({ container, output: r.output as SourceMark["output"], ns: BigInt(r.ns), count: Number(r.count) })),
      keptSince: Number(since?.at ?? 0),
    };
  }

  async forgetSource(container: string): Promise<void> {
    await run(this.db, "DELETE FROM log_sources WHERE container = ?", [container]);
  }

  async search(stream: StreamKey, q: LogSearch): Promise<LogPage> {
    const f = logFilter(q);
    const { lower, upper, sinceTs, untilTs, kinds } = f;
    const scan = new ChunkScan(f, q.limit, q.scanBudget ?? DEFAULT_SCAN_BUDGET);
    if (upper < lower || q.limit <= 0) return scan.end();
    const streamSql = kinds ? ` AND (kinds IS NULL OR ${[...kinds].map(() => "kinds LIKE ?").join(" OR ")})` : "";
    const likes = [...(kinds ?? [])].map((k) => `%,${k},%`);
    let below = upper; // pages go down: each next page starts below the last chunk read
    for (;;) {
      const chunks = (await rows<ChunkRow>(this.db, `${searchSql(streamSql)} LIMIT ?`, [stream, below, lower, sinceTs, untilTs, ...likes, PAGE])).map(toChunk);
      for (const chunk of chunks) {
        const page = scan.take(chunk.first_seq, chunk.last_seq, chunk.codec, chunk.lines);
        if (page) return page;
      }
      if (chunks.length < PAGE) return scan.end();
      below = chunks[chunks.length - 1]!.first_seq - 1;
    }
  }

  async usage(): Promise<LogUsage[]> {
    const found = await rows<LogUsage>(
      this.db,
      `SELECT stream, SUM(COALESCE(bytes, LENGTH(lines))) AS bytes, SUM(last_seq - first_seq + 1) AS lines FROM log_chunks GROUP BY stream ORDER BY stream COLLATE "C"`,
    );
    return found.map((u) => ints(u, ["bytes", "lines"]));
  }

  async prune(stream: StreamKey, limits: { before: number; maxBytes: number }): Promise<LogPruned> {
    return this.db.begin(async (tx): Promise<LogPruned> => {
      await lockFor(tx, LOCK.logStream, stream);
      const newest = (await one<{ f: string | null }>(tx, "SELECT MAX(first_seq) AS f FROM log_chunks WHERE stream = ?", [stream]))?.f;
      if (newest == null) return { lines: 0, bytes: 0, throughSeq: 0 };
      const older = await rows<{ first_seq: number; last_seq: number; max_ts: number | null; bytes: number }>(
        tx,
        "SELECT first_seq, last_seq, max_ts, COALESCE(bytes, LENGTH(lines)) AS bytes FROM log_chunks WHERE stream = ? AND first_seq < ? ORDER BY first_seq",
        [stream, Number(newest)],
      );
      let kept = Number((await one<{ b: string | null }>(tx, "SELECT SUM(COALESCE(bytes, LENGTH(lines))) AS b FROM log_chunks WHERE stream = ?", [stream]))?.b ?? 0);
      const pruned: LogPruned = { lines: 0, bytes: 0, throughSeq: 0 };
      // Oldest first: a chunk goes while it is too old or the stream is over its size.
      for (const row of older.map((r) => ints(r, ["first_seq", "last_seq", "max_ts", "bytes"]))) {
        const tooOld = row.max_ts != null && row.max_ts < limits.before;
        if (!tooOld && kept <= limits.maxBytes) break;
        kept -= row.bytes;
        pruned.lines += row.last_seq - row.first_seq + 1;
        pruned.bytes += row.bytes;
        pruned.throughSeq = row.last_seq;
      }
      if (pruned.throughSeq > 0) await run(tx, "DELETE FROM log_chunks WHERE stream = ? AND last_seq <= ?", [stream, pruned.throughSeq]);
      return pruned;
    });
  }
}

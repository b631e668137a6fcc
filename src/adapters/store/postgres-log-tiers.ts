/**
 * The store's side of log offload in Postgres (port LogTiers; SQLite: sqlite-log-tiers.ts): picks
 * a stream's cold chunks and keeps the table of segments (migration 9). A segment is recorded in
 * the transaction that deletes the chunks it holds, after checking they are still exactly the ones
 * packed, under the stream's advisory lock (the one prune takes), so two Kilns cannot interleave.
 */
import type { StreamKey } from "../../core/logs.ts";
import type { LogSegment, LogStorage, LogTiers, StoredChunk } from "../../core/ports/store.ts";
import { type ColdChunkRow, type SegmentRow, toSegment, toStoredChunk } from "./log-tier-rows.ts";
import { ints, LOCK, lockFor, one, rows, run, type Pg } from "./postgres-sql.ts";

/** Chunks fetched a page. */
const PAGE = 64;

/** Postgres hands BIGINTs back as text. */
const segmentOf = (row: SegmentRow): LogSegment => toSegment(ints(row, ["first_seq", "last_seq", "first_ts", "last_ts", "lines", "bytes", "created_at"]));

type Span = { n: number; lines: number | null; bytes: number | null; first: number | null; last: number | null };

export class PgLogTiers implements LogTiers {
  constructor(private readonly db: Pg) {}

  async coldChunks(stream: StreamKey, before: number, maxBytes: number): Promise<StoredChunk[]> {
    const newest = (await one<{ f: string | null }>(this.db, "SELECT MAX(first_seq) AS f FROM log_chunks WHERE stream = ?", [stream]))?.f;
    if (newest == null) return [];
    const out: StoredChunk[] = [];
    let bytes = 0;
    let after = -1;
    for (;;) {
      const page = await rows<ColdChunkRow>(
        this.db,
        "SELECT first_seq, last_seq, min_ts, max_ts, kinds, codec, lines FROM log_chunks WHERE stream = ? AND first_seq > ? AND first_seq < ? ORDER BY first_seq LIMIT ?",
        [stream, after, Number(newest), PAGE],
      );
      for (const r of page.map((c) => ints(c, ["first_seq", "last_seq", "min_ts", "max_ts"]))) {
        // Oldest first, and only a run of them: a chunk not cold yet stops the run (seqs stay contiguous).
        if (r.max_ts == null || r.max_ts >= before) return out;
        const chunk = toStoredChunk({ ...r, max_ts: r.max_ts });
        if (out.length > 0 && bytes + chunk.body.byteLength > maxBytes) return out;
        bytes += chunk.body.byteLength;
        out.push(chunk);
      }
      if (page.length < PAGE) return out;
      after = Number(page[page.length - 1]!.first_seq);
    }
  }

  async commitSegment(s: LogSegment): Promise<boolean> {
    return this.db.begin(async (tx): Promise<boolean> => {
      await lockFor(tx, LOCK.logStream, s.stream);
      const held = (await one<{ n: string | null }>(tx, "SELECT SUM(last_seq - first_seq + 1) AS n FROM log_chunks WHERE stream = ? AND first_seq >= ? AND last_seq <= ?", [s.stream, s.firstSeq, s.lastSeq]))?.n;
      if (held == null || Number(held) !== s.lines) return false;
      await run(tx, "INSERT INTO log_segments (stream, first_seq, last_seq, first_ts, last_ts, lines, bytes, object_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        s.stream, s.firstSeq, s.lastSeq, s.firstTs, s.lastTs, s.lines, s.bytes, s.key, s.createdAt,
      ]);
      await run(tx, "DELETE FROM log_chunks WHERE stream = ? AND first_seq >= ? AND last_seq <= ?", [s.stream, s.firstSeq, s.lastSeq]);
      return true;
    });
  }

  async streamsWithSegments(): Promise<StreamKey[]> {
    return (await rows<{ stream: string }>(this.db, `SELECT DISTINCT stream COLLATE "C" AS stream FROM log_segments ORDER BY 1`)).map((r) => r.stream);
  }

  async segments(stream: StreamKey): Promise<LogSegment[]> {
    return (await rows<SegmentRow>(this.db, "SELECT * FROM log_segments WHERE stream = ? ORDER BY first_seq", [stream])).map(segmentOf);
  }

  async segmentFrom(stream: StreamKey, seq: number): Promise<LogSegment | null> {
    const row = await one<SegmentRow>(this.db, "SELECT * FROM log_segments WHERE stream = ? AND last_seq >= ? ORDER BY first_seq LIMIT 1", [stream, seq]);
    return row ? segmentOf(row) : null;
  }

  async segmentsWithin(stream: StreamKey, w: { lower: number; upper: number; sinceTs: number; untilTs: number }): Promise<LogSegment[]> {
    return (
      await rows<SegmentRow>(
        this.db,
        "SELECT * FROM log_segments WHERE stream = ? AND first_seq <= ? AND last_seq >= ? AND last_ts >= ? AND first_ts <= ? ORDER BY first_seq DESC",
        [stream, w.upper, w.lower, w.sinceTs, w.untilTs],
      )
    ).map(segmentOf);
  }

  async removeSegment(stream: StreamKey, firstSeq: number): Promise<void> {
    await run(this.db, "DELETE FROM log_segments WHERE stream = ? AND first_seq = ?", [stream, firstSeq]);
  }

  async removeSegmentsOf(stream: StreamKey): Promise<void> {
    await run(this.db, "DELETE FROM log_segments WHERE stream = ?", [stream]);
  }

  async firstHotSeq(stream: StreamKey): Promise<number | null> {
    const f = (await one<{ f: string | null }>(this.db, "SELECT MIN(first_seq) AS f FROM log_chunks WHERE stream = ?", [stream]))?.f;
    return f == null ? null : Number(f);
  }

  async storage(stream: StreamKey): Promise<LogStorage> {
    const spanCols = ["n", "lines", "bytes", "first", "last"] as const;
    const hot = ints(
      (await one<Span>(this.db, "SELECT COUNT(*) AS n, SUM(last_seq - first_seq + 1) AS lines, SUM(COALESCE(bytes, LENGTH(lines))) AS bytes, MIN(first_seq) AS first, MAX(last_seq) AS last FROM log_chunks WHERE stream = ?", [stream]))!,
      spanCols,
    );
    const cold = ints(
      (await one<Span>(this.db, "SELECT COUNT(*) AS n, SUM(lines) AS lines, SUM(bytes) AS bytes, MIN(first_seq) AS first, MAX(last_seq) AS last FROM log_segments WHERE stream = ?", [stream]))!,
      spanCols,
    );
    return {
      hot: { chunks: hot.n, lines: hot.lines ?? 0, bytes: hot.bytes ?? 0, firstSeq: hot.first, lastSeq: hot.last },
      cold: { segments: cold.n, lines: cold.lines ?? 0, bytes: cold.bytes ?? 0, firstSeq: cold.first, lastSeq: cold.last },
    };
  }
}

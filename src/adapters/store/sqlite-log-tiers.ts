/**
 * The store's side of log offload (port LogTiers, src/core/ports/store.ts): picks a stream's cold
 * chunks, and keeps the table of segments (migration 9). A segment is recorded in the same
 * transaction that deletes the chunks it holds, after checking they are still exactly the ones
 * packed (retention may have removed some meanwhile), so a line is always in a chunk, in a recorded
 * segment, or was removed by retention — never in neither by accident.
 */
import type { Database } from "bun:sqlite";
import type { StreamKey } from "../../core/logs.ts";
import type { LogSegment, LogStorage, LogTiers, StoredChunk } from "../../core/ports/store.ts";
import { type ColdChunkRow, type SegmentRow, toSegment, toStoredChunk } from "./log-tier-rows.ts";

export class SqliteLogTiers implements LogTiers {
  constructor(private readonly db: Database) {}

  async coldChunks(stream: StreamKey, before: number, maxBytes: number): Promise<StoredChunk[]> {
    const newest = this.db.query<{ f: number | null }, [string]>("SELECT MAX(first_seq) AS f FROM log_chunks WHERE stream = ?").get(stream)?.f;
    if (newest == null) return [];
    const rows = this.db
      .query<ColdChunkRow, [string, number]>(
        "SELECT first_seq, last_seq, min_ts, max_ts, kinds, codec, lines FROM log_chunks WHERE stream = ? AND first_seq < ? ORDER BY first_seq",
      )
      .iterate(stream, newest);
    const out: StoredChunk[] = [];
    let bytes = 0;
    for (const r of rows) {
      // Oldest first, and only a run of them: a chunk not cold yet stops the run (seqs stay contiguous).
      if (r.max_ts == null || r.max_ts >= before) break;
      const chunk = toStoredChunk({ ...r, max_ts: r.max_ts });
      if (out.length > 0 && bytes + chunk.body.byteLength > maxBytes) break;
      bytes += chunk.body.byteLength;
      out.push(chunk);
    }
    return out;
  }

  async commitSegment(s: LogSegment): Promise<boolean> {
    return this.db.transaction((): boolean => {
      const held = this.db
        .query<{ n: number | null }, [string, number, number]>(
          "SELECT SUM(last_seq - first_seq + 1) AS n FROM log_chunks WHERE stream = ? AND first_seq >= ? AND last_seq <= ?",
        )
        .get(s.stream, s.firstSeq, s.lastSeq)?.n;
      if (held !== s.lines) return false;
      this.db
        .query("INSERT INTO log_segments (stream, first_seq, last_seq, first_ts, last_ts, lines, bytes, object_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(s.stream, s.firstSeq, s.lastSeq, s.firstTs, s.lastTs, s.lines, s.bytes, s.key, s.createdAt);
      this.db.query("DELETE FROM log_chunks WHERE stream = ? AND first_seq >= ? AND last_seq <= ?").run(s.stream, s.firstSeq, s.lastSeq);
      return true;
    }).immediate();
  }

  async streamsWithSegments(): Promise<StreamKey[]> {
    return this.db.query<{ stream: string }, []>("SELECT DISTINCT stream FROM log_segments ORDER BY stream").all().map((r) => r.stream);
  }

  async segments(stream: StreamKey): Promise<LogSegment[]> {
    return this.db.query<SegmentRow, [string]>("SELECT * FROM log_segments WHERE stream = ? ORDER BY first_seq").all(stream).map(toSegment);
  }

  async segmentFrom(stream: StreamKey, seq: number): Promise<LogSegment | null> {
    const row = this.db
      .query<SegmentRow, [string, number]>("SELECT * FROM log_segments WHERE stream = ? AND last_seq >= ? ORDER BY first_seq LIMIT 1")
      .get(stream, seq);
    return row ? toSegment(row) : null;
  }

  async segmentsWithin(stream: StreamKey, w: { lower: number; upper: number; sinceTs: number; untilTs: number }): Promise<LogSegment[]> {
    return this.db
      .query<SegmentRow, [string, number, number, number, number]>(
        "SELECT * FROM log_segments WHERE stream = ? AND first_seq <= ? AND last_seq >= ? AND last_ts >= ? AND first_ts <= ? ORDER BY first_seq DESC",
      )
      .all(stream, w.upper, w.lower, w.sinceTs, w.untilTs)
      .map(toSegment);
  }

  async removeSegment(stream: StreamKey, firstSeq: number): Promise<void> {
    this.db.query("DELETE FROM log_segments WHERE stream = ? AND first_seq = ?").run(stream, firstSeq);
  }

  async removeSegmentsOf(stream: StreamKey): Promise<void> {
    this.db.query("DELETE FROM log_segments WHERE stream = ?").run(stream);
  }

  async firstHotSeq(stream: StreamKey): Promise<number | null> {
    return this.db.query<{ f: number | null }, [string]>("SELECT MIN(first_seq) AS f FROM log_chunks WHERE stream = ?").get(stream)?.f ?? null;
  }

  async storage(stream: StreamKey): Promise<LogStorage> {
    const hot = this.db
      .query<{ n: number; lines: number | null; bytes: number | null; first: number | null; last: number | null }, [string]>(
        "SELECT COUNT(*) AS n, SUM(last_seq - first_seq + 1) AS lines, SUM(COALESCE(bytes, LENGTH(lines))) AS bytes, MIN(first_seq) AS first, MAX(last_seq) AS last FROM log_chunks WHERE stream = ?",
      )
      .get(stream)!;
    const cold = this.db
      .query<{ n: number; lines: number | null; bytes: number | null; first: number | null; last: number | null }, [string]>(
        "SELECT COUNT(*) AS n, SUM(lines) AS lines, SUM(bytes) AS bytes, MIN(first_seq) AS first, MAX(last_seq) AS last FROM log_segments WHERE stream = ?",
      )
      .get(stream)!;
    return {
      hot: { chunks: hot.n, lines: hot.lines ?? 0, bytes: hot.bytes ?? 0, firstSeq: hot.first, lastSeq: hot.last },
      cold: { segments: cold.n, lines: cold.lines ?? 0, bytes: cold.bytes ?? 0, firstSeq: cold.first, lastSeq: cold.last },
    };
  }
}

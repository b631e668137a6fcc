/** The offload tables' rows as both stores read them (`log_segments`, cold `log_chunks`), and their mapping. Pure. */
import type { LogSegment, StoredChunk } from "../../core/ports/store.ts";

export interface SegmentRow {
  stream: string;
  first_seq: number;
  last_seq: number;
  first_ts: number;
  last_ts: number;
  lines: number;
  bytes: number;
  object_key: string;
  created_at: number;
}

export interface ColdChunkRow {
  first_seq: number;
  last_seq: number;
  min_ts: number | null;
  max_ts: number | null;
  kinds: string | null;
  codec: string;
  lines: string | Uint8Array;
}

export const toSegment = (r: SegmentRow): LogSegment => ({
  stream: r.stream,
  firstSeq: r.first_seq,
  lastSeq: r.last_seq,
  firstTs: r.first_ts,
  lastTs: r.last_ts,
  lines: r.lines,
  bytes: r.bytes,
  key: r.object_key,
  createdAt: r.created_at,
});

/** A cold chunk (its max_ts known) as the offload packs it: the body as stored, as bytes. */
export function toStoredChunk(r: ColdChunkRow & { max_ts: number }): StoredChunk {
  const body = typeof r.lines === "string" ? Buffer.from(r.lines, "utf8") : r.lines;
  return { firstSeq: r.first_seq, lastSeq: r.last_seq, minTs: r.min_ts ?? r.max_ts, maxTs: r.max_ts, kinds: r.kinds ?? ",", codec: r.codec, body };
}

/**
 * The bytes of one offloaded log segment: a run of a stream's chunks, bodies exactly as stored
 * (already compressed, log-codec.ts), behind a small index. Pure.
 *
 *   "KLSEG1\n" | u32 big-endian: index length | index (JSON) | body 1 | body 2 | …
 *   index: { v: 1, stream, chunks: [[firstSeq, lastSeq, minTs, maxTs, kinds, codec, bodyLength], …] }
 *
 * Nothing is compressed twice; reading one chunk back decodes only that chunk's body.
 */
import type { LogLine, StreamKey } from "../../core/logs.ts";
import type { StoredChunk } from "../../core/ports/store.ts";
import { unpackLines } from "./log-codec.ts";

const MAGIC = Buffer.from("KLSEG1\n", "latin1");

type IndexRow = [number, number, number, number, string, string, number];

export interface Segment {
  stream: StreamKey;
  chunks: StoredChunk[];
}

export function packSegment(stream: StreamKey, chunks: readonly StoredChunk[]): Uint8Array {
  if (chunks.length === 0) throw new Error("a log segment needs at least one chunk");
  for (let i = 1; i < chunks.length; i++) {
    if (chunks[i]!.firstSeq <= chunks[i - 1]!.lastSeq) throw new Error(`log segment chunks out of order at seq ${chunks[i]!.firstSeq}`);
  }
  const rows: IndexRow[] = chunks.map((c) => [c.firstSeq, c.lastSeq, c.minTs, c.maxTs, c.kinds, c.codec, c.body.byteLength]);
  const index = Buffer.from(JSON.stringify({ v: 1, stream, chunks: rows }), "utf8");
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head.writeUInt32BE(index.length, MAGIC.length);
  return Buffer.concat([head, index, ...chunks.map((c) => c.body)]);
}

/** The segment's chunks (bodies are views into `bytes`). Throws on anything that is not a whole segment. */
export function unpackSegment(bytes: Uint8Array): Segment {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error("not a Kiln log segment (bad magic)");
  const indexLength = buf.readUInt32BE(MAGIC.length);
  let at = MAGIC.length + 4 + indexLength;
  if (at > buf.length) throw new Error("log segment truncated in its index");
  const index = JSON.parse(buf.subarray(MAGIC.length + 4, at).toString("utf8")) as { v: number; stream: string; chunks: IndexRow[] };
  if (index.v !== 1 || !Array.isArray(index.chunks)) throw new Error(`unknown log segment version ${String(index.v)}`);
  const chunks = index.chunks.map(([firstSeq, lastSeq, minTs, maxTs, kinds, codec, length]): StoredChunk => {
    const body = buf.subarray(at, at + length);
    if (body.length !== length) throw new Error(`log segment truncated in the chunk from seq ${firstSeq}`);
    at += length;
    return { firstSeq, lastSeq, minTs, maxTs, kinds, codec, body };
  });
  if (at !== buf.length) throw new Error(`log segment has ${buf.length - at} trailing bytes`);
  return { stream: index.stream, chunks };
}

export function chunkLines(chunk: StoredChunk): LogLine[] {
  return unpackLines(chunk.codec, chunk.body);
}

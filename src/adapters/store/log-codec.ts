/**
 * How a log chunk's lines sit in their row. Since migration 8 the body is zstd-compressed JSON
 * (codec "zstd", about 9x smaller on typical log text); rows written before keep their plain JSON
 * (codec "json") and read the same. The JSON is rows.ts's [seq, ts, stream, text] arrays.
 */
import type { LogLine } from "../../core/logs.ts";
import { decodeLines, encodeLines } from "./rows.ts";

export type ChunkCodec = "json" | "zstd";

/** zstd's default level: level 6+ gains ~1% here for several times the CPU. */
const LEVEL = 3;

export function packLines(lines: readonly LogLine[]): { codec: ChunkCodec; body: Uint8Array } {
  return { codec: "zstd", body: Bun.zstdCompressSync(Buffer.from(encodeLines(lines)), { level: LEVEL }) };
}

/** The chunk's JSON text, whatever its codec. */
export function chunkText(codec: string, body: string | Uint8Array): string {
  if (codec === "json") return typeof body === "string" ? body : Buffer.from(body).toString("utf8");
  if (codec === "zstd") return Buffer.from(Bun.zstdDecompressSync(body as Uint8Array)).toString("utf8");
  throw new Error(`log chunk stored with unknown codec "${codec}"`);
}

export function unpackLines(codec: string, body: string | Uint8Array): LogLine[] {
  return decodeLines(chunkText(codec, body));
}

/** A chunk's time span and the streams it holds (",build,system,"): the columns a search skips chunks by. */
export function chunkSpan(lines: readonly LogLine[]): { minTs: number; maxTs: number; kinds: string } {
  let minTs = Number.MAX_SAFE_INTEGER;
  let maxTs = -Number.MAX_SAFE_INTEGER;
  const kinds = new Set<string>();
  for (const l of lines) {
    if (l.ts < minTs) minTs = l.ts;
    if (l.ts > maxTs) maxTs = l.ts;
    kinds.add(l.stream);
  }
  return { minTs, maxTs, kinds: `,${[...kinds].sort().join(",")},` };
}

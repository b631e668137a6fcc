import { describe, expect, test } from "bun:test";
import type { LogLine } from "../../core/logs.ts";
import type { StoredChunk } from "../../core/ports/store.ts";
import { packLines } from "./log-codec.ts";
import { chunkLines, packSegment, unpackSegment } from "./log-segment.ts";
import { encodeLines } from "./rows.ts";

const lines = (first: number, last: number): LogLine[] =>
  Array.from({ length: last - first + 1 }, (_, i) => ({ seq: first + i, ts: 1000 + first + i, stream: i % 2 ? "build" : "runtime", text: `line ${first + i} ✓` }));

function chunk(first: number, last: number, codec: "zstd" | "json" = "zstd"): StoredChunk {
  const ls = lines(first, last);
  const body = codec === "zstd" ? packLines(ls).body : Buffer.from(encodeLines(ls), "utf8");
  return { firstSeq: first, lastSeq: last, minTs: ls[0]!.ts, maxTs: ls[ls.length - 1]!.ts, kinds: ",build,runtime,", codec, body };
}

describe("log segments", () => {
  test("pack then unpack gives the same chunks, bodies untouched, and their lines", () => {
    const chunks = [chunk(1, 256), chunk(257, 300, "json"), chunk(301, 301)];
    const back = unpackSegment(packSegment("tenant:echo:acme", chunks));
    expect(back.stream).toBe("tenant:echo:acme");
    expect(back.chunks.map((c) => ({ ...c, body: Buffer.from(c.body) }))).toEqual(chunks.map((c) => ({ ...c, body: Buffer.from(c.body) })));
    expect(back.chunks.flatMap(chunkLines)).toEqual(lines(1, 301));
  });

  test("refuses an empty or unordered run, and bytes that are not a whole segment", () => {
    expect(() => packSegment("s", [])).toThrow("at least one chunk");
    expect(() => packSegment("s", [chunk(5, 9), chunk(1, 4)])).toThrow("out of order at seq 1");
    const bytes = packSegment("s", [chunk(1, 10), chunk(11, 20)]);
    expect(() => unpackSegment(bytes.subarray(0, bytes.length - 1))).toThrow("truncated in the chunk from seq 11");
    expect(() => unpackSegment(Buffer.concat([bytes, Buffer.from("x")]))).toThrow("1 trailing bytes");
    expect(() => unpackSegment(Buffer.from("PK\u0003\u0004 not a segment"))).toThrow("bad magic");
  });
});

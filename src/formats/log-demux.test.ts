import { describe, expect, test } from "bun:test";
import { LogDemuxer, demuxLines, type OutputStream } from "./log-demux.ts";

function frame(kind: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

function collect() {
  const lines: [OutputStream, string][] = [];
  return { lines, demux: new LogDemuxer((s, l) => lines.push([s, l])) };
}

describe("LogDemuxer", () => {
  test("splits frames into lines per stream", () => {
    const { lines, demux } = collect();
    demux.push(frame(1, "hello\nworld\n"));
    demux.push(frame(2, "oops\n"));
    demux.end();
    expect(lines).toEqual([
      ["stdout", "hello"],
      ["stdout", "world"],
      ["stderr", "oops"],
    ]);
  });

  test("a chunk may end mid-header and mid-payload", () => {
    const { lines, demux } = collect();
    const bytes = new Uint8Array([...frame(1, "first line\n"), ...frame(2, "second\n")]);
    demux.push(bytes.subarray(0, 3));
    demux.push(bytes.subarray(3, 12));
    demux.push(bytes.subarray(12, 22));
    demux.push(bytes.subarray(22));
    demux.end();
    expect(lines).toEqual([
      ["stdout", "first line"],
      ["stderr", "second"],
    ]);
  });

  test("a line split across frames is joined; streams keep separate partial lines", () => {
    const { lines, demux } = collect();
    demux.push(frame(1, "par"));
    demux.push(frame(2, "err-par"));
    demux.push(frame(1, "tial\n"));
    demux.push(frame(2, "t\n"));
    expect(lines).toEqual([
      ["stdout", "partial"],
      ["stderr", "err-part"],
    ]);
  });

  test("multi-byte characters split across frames survive", () => {
    const { lines, demux } = collect();
    const bytes = new TextEncoder().encode("héllo ✓\n");
    const f1 = new Uint8Array(8 + 2);
    f1[0] = 1;
    new DataView(f1.buffer).setUint32(4, 2);
    f1.set(bytes.subarray(0, 2), 8); // "h" + first byte of "é"
    const rest = bytes.subarray(2);
    const f2 = new Uint8Array(8 + rest.length);
    f2[0] = 1;
    new DataView(f2.buffer).setUint32(4, rest.length);
    f2.set(rest, 8);
    demux.push(f1);
    demux.push(f2);
    expect(lines).toEqual([["stdout", "héllo ✓"]]);
  });

  test("end() flushes a last line without newline; CRLF and blank lines", () => {
    const { lines, demux } = collect();
    demux.push(frame(1, "a\r\n\nb"));
    expect(lines).toEqual([["stdout", "a"]]);
    demux.end();
    expect(lines).toEqual([
      ["stdout", "a"],
      ["stdout", "b"],
    ]);
  });

  test("demuxLines reads a whole stream", async () => {
    const body = new Blob([frame(1, "one\n"), frame(2, "two\n")]).stream();
    const lines: string[] = [];
    await demuxLines(body, (s, l) => lines.push(`${s}:${l}`));
    expect(lines).toEqual(["stdout:one", "stderr:two"]);
  });
});

test("a character split across frames joins the next frame's line", () => {
  const lines: string[] = [];
  const d = new LogDemuxer((_s, l) => lines.push(l));
  const frame = (bytes: number[]) => {
    const f = new Uint8Array(8 + bytes.length);
    f[0] = 1;
    new DataView(f.buffer).setUint32(4, bytes.length);
    f.set(bytes, 8);
    return f;
  };
  d.push(frame([0xc3]));
  d.push(frame([0xa9, 0x61, 0x0a]));
  d.push(frame([0x62, 0x0a]));
  d.end();
  expect(lines).toEqual(["éa", "b"]);
});

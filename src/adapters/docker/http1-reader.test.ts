import { describe, expect, test } from "bun:test";
import { Http1Reader, type Http1Head } from "./http1-reader.ts";

const enc = new TextEncoder();

function read(parts: string[], close = false) {
  const out = { head: null as Http1Head | null, body: "", ended: 0, error: null as string | null };
  const r = new Http1Reader({
    onHead: (h) => (out.head = h),
    onBody: (b) => (out.body += new TextDecoder().decode(b)),
    onEnd: () => out.ended++,
    onError: (m) => (out.error = m),
  });
  for (const p of parts) r.push(enc.encode(p));
  if (close) r.close();
  return out;
}

/** Every way of cutting `s` in two, to prove no boundary matters. */
function splits(s: string): string[][] {
  const out: string[][] = [];
  for (let i = 0; i <= s.length; i++) out.push([s.slice(0, i), s.slice(i)]);
  return out;
}

describe("Http1Reader", () => {
  const chunked = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";

  test("a chunked body comes out whole however the bytes are cut", () => {
    for (const parts of splits(chunked)) {
      const out = read(parts);
      expect(out.error).toBeNull();
      expect(out.head?.status).toBe(200);
      expect(out.head?.headers.get("content-type")).toBe("application/vnd.docker.raw-stream");
      expect(out.body).toBe("hello, world");
      expect(out.ended).toBe(1);
    }
  });

  test("byte by byte", () => {
    const out = read([...chunked]);
    expect(out.body).toBe("hello, world");
    expect(out.ended).toBe(1);
  });

  test("a Content-Length body ends at its length, bytes after it are ignored", () => {
    for (const parts of splits('HTTP/1.1 404 Not Found\r\ncontent-length: 22\r\n\r\n{"message":"no such"}\nEXTRA')) {
      const out = read(parts);
      expect(out.head?.status).toBe(404);
      expect(out.head?.statusText).toBe("Not Found");
      expect(out.body).toBe('{"message":"no such"}\n');
      expect(out.ended).toBe(1);
    }
  });

  test("a body without length or chunking ends at the close", () => {
    const out = read(["HTTP/1.0 200 OK\r\n\r\nabc", "def"], true);
    expect(out.body).toBe("abcdef");
    expect(out.ended).toBe(1);
    expect(out.error).toBeNull();
  });

  test("204 and a zero length have no body", () => {
    expect(read(["HTTP/1.1 204 No Content\r\n\r\n"]).ended).toBe(1);
    expect(read(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]).ended).toBe(1);
  });

  test("a close in the middle is an error, not an end", () => {
    const mid = read(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"], true);
    expect(mid.body).toBe("hel");
    expect(mid.ended).toBe(0);
    expect(mid.error).toContain("middle of a response");
    expect(read([""], true).error).toContain("before answering");
  });

  test("malformed input is an error that names what was wrong", () => {
    expect(read(["SSH-2.0-OpenSSH\r\n\r\n"]).error).toContain("not an HTTP response");
    expect(read(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]).error).toContain("bad chunk size");
    expect(read(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n"]).error).toContain("does not end with CRLF");
    expect(read(["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"]).error).toContain("Content-Length");
    expect(read(["HTTP/1.1 200 OK\r\nX: " + "a".repeat(70_000)]).error).toContain("too long");
  });
});

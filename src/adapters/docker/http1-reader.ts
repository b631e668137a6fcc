/**
 * An incremental reader of one HTTP/1.1 response, for the engine's long streams read straight off
 * its unix socket (./http.ts `stream`). Bytes go in as the socket gives them; out come the status
 * and headers once, then the body's bytes (de-chunked), then the end. Pure.
 *
 *   const r = new Http1Reader({ onHead, onBody, onEnd });
 *   socket.data = (bytes) => r.push(bytes);
 *   socket.close = () => r.close();          // a close-delimited body ends here
 *
 * Why not fetch: a followed log arrives as one tiny chunk per line, and fetch hands each to JS as
 * its own read (about 6 µs of Kiln's CPU a line at 100k lines/s); the socket hands over whatever
 * the kernel holds, many lines at once (bench/logs.bench.ts).
 * Bodies: `Transfer-Encoding: chunked`, `Content-Length`, or up to the close. A malformed head or
 * chunk size is an error (`onError`), after which the reader ignores further bytes.
 */

export interface Http1Head {
  status: number;
  statusText: string;
  /** Lower-cased names; a repeated header keeps its last value. */
  headers: Map<string, string>;
}

export interface Http1Handlers {
  onHead(head: Http1Head): void;
  onBody(bytes: Uint8Array): void;
  onEnd(): void;
  onError(message: string): void;
}

/** The longest head accepted: the engine's are a few hundred bytes. */
const MAX_HEAD = 64 * 1024;

type State =
  | { kind: "head" }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; left: number }
  | { kind: "chunk-end" }
  | { kind: "trailer" }
  | { kind: "length"; left: number }
  | { kind: "until-close" }
  | { kind: "done" };

export class Http1Reader {
  #state: State = { kind: "head" };
  #pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly h: Http1Handlers) {}

  get done(): boolean {
    return this.#state.kind === "done";
  }

  push(bytes: Uint8Array): void {
    let buf = this.#pending.length ? concat(this.#pending, bytes) : bytes;
    let pos = 0;
    for (;;) {
      const s = this.#state;
      if (s.kind === "done") {
        buf = EMPTY;
        pos = 0;
        break;
      }
      if (s.kind === "chunk-data" || s.kind === "length") {
        const take = Math.min(s.left, buf.length - pos);
        if (take > 0) this.h.onBody(buf.subarray(pos, pos + take));
        pos += take;
        s.left -= take;
        if (s.left > 0) break;
        if (s.kind === "length") this.#finish();
        else this.#state = { kind: "chunk-end" };
        continue;
      }
      if (s.kind === "until-close") {
        if (pos < buf.length) this.h.onBody(buf.subarray(pos));
        pos = buf.length;
        break;
      }
      if (s.kind === "head") {
        const end = indexOfCrlfCrlf(buf, pos);
        if (end < 0) {
          if (buf.length - pos > MAX_HEAD) this.#fail("the engine's response head is too long");
          break;
        }
        const text = new TextDecoder().decode(buf.subarray(pos, end));
        pos = end + 4;
        this.#head(text);
        continue;
      }
      // chunk-size, chunk-end, trailer: one CRLF-terminated line each
      const eol = indexOfCrlf(buf, pos);
      if (eol < 0) {
        if (buf.length - pos > 1024) this.#fail("a chunk line of the engine's response is too long");
        break;
      }
      const empty = eol === pos;
      const start = pos;
      pos = eol + 2;
      if (s.kind === "chunk-end") {
        if (!empty) return this.#fail("a chunk of the engine's response does not end with CRLF");
        this.#state = { kind: "chunk-size" };
      } else if (s.kind === "chunk-size") {
        // One chunk a log line: read the hex digits off the bytes (a decoder a line was a tenth of ingest).
        const size = hexSize(buf, start, eol);
        if (size < 0) return this.#fail(`bad chunk size ${JSON.stringify(new TextDecoder().decode(buf.subarray(start, Math.min(eol, start + 20))))} in the engine's response`);
        this.#state = size === 0 ? { kind: "trailer" } : { kind: "chunk-data", left: size };
      } else if (empty) {
        this.#finish(); // the empty line after the (usually absent) trailers
      }
    }
    this.#pending = pos < buf.length ? buf.slice(pos) : EMPTY;
  }

  /** The connection closed: a close-delimited body ends; anything else unfinished is an error. */
  close(): void {
    const s = this.#state;
    if (s.kind === "done") return;
    if (s.kind === "until-close") return this.#finish();
    this.#fail(s.kind === "head" ? "the engine closed the connection before answering" : "the engine closed the connection in the middle of a response");
  }

  #head(text: string): void {
    const [statusLine = "", ...lines] = text.split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) return this.#fail(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 40))}`);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const status = Number(m[1]);
    this.h.onHead({ status, statusText: m[2] ?? "", headers });
    if (this.#state.kind === "done") return; // the handler gave up on it
    const length = headers.get("content-length");
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) this.#state = { kind: "chunk-size" };
    else if (status === 204 || status === 304) this.#finish();
    else if (length !== undefined) {
      const n = Number(length);
      if (!Number.isSafeInteger(n) || n < 0) return this.#fail(`bad Content-Length ${JSON.stringify(length)}`);
      if (n === 0) this.#finish();
      else this.#state = { kind: "length", left: n };
    } else this.#state = { kind: "until-close" };
  }

  #finish(): void {
    this.#state = { kind: "done" };
    this.h.onEnd();
  }

  #fail(message: string): void {
    this.#state = { kind: "done" };
    this.#pending = EMPTY;
    this.h.onError(message);
  }
}

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The hex number at the start of a chunk-size line (up to ";" or space), or -1. */
function hexSize(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  let digits = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) {
      if (c === 59 || c === 32 || c === 9) break; // ";ext" or padding
      return -1;
    }
    if (++digits > 12) return -1;
    n = n * 16 + d;
  }
  return digits === 0 ? -1 : n;
}

function indexOfCrlf(buf: Uint8Array, from: number): number {
  for (let i = buf.indexOf(13, from); i >= 0 && i < buf.length - 1; i = buf.indexOf(13, i + 1)) if (buf[i + 1] === 10) return i;
  return -1;
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number): number {
  for (let i = indexOfCrlf(buf, from); i >= 0; i = indexOfCrlf(buf, i + 2)) if (buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  return -1;
}

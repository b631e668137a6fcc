/**
 * Docker's multiplexed log stream (containers without a TTY): frames of
 *   [stream: 1 byte (1 stdout, 2 stderr)][0 0 0][size: uint32 big-endian][payload]
 * A frame may end mid-line and a chunk may end mid-frame, so both are buffered.
 */
export type OutputStream = "stdout" | "stderr";

export class LogDemuxer {
  #pending = new Uint8Array(0);
  readonly #partial: Record<OutputStream, string> = { stdout: "", stderr: "" };
  readonly #decoders: Record<OutputStream, TextDecoder> = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(private readonly onLine: (stream: OutputStream, line: string) => void) {}

  push(chunk: Uint8Array): void {
    let buf = concat(this.#pending, chunk);
    let pos = 0;
    while (buf.length - pos >= 8) {
      const size = ((buf[pos + 4]! << 24) >>> 0) + (buf[pos + 5]! << 16) + (buf[pos + 6]! << 8) + buf[pos + 7]!;
      if (buf.length - pos - 8 < size) break;
      const kind = buf[pos];
      const payload = buf.subarray(pos + 8, pos + 8 + size);
      pos += 8 + size;
      if (kind === 1) this.#text("stdout", payload);
      else if (kind === 2) this.#text("stderr", payload);
      // 0 (stdin) never carries output; ignore it and unknown kinds.
    }
    this.#pending = buf.slice(pos);
  }

  /** Emit what is left without a trailing newline. */
  end(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.#partial[stream] + this.#decoders[stream].decode();
      this.#partial[stream] = "";
      if (rest) this.onLine(stream, rest);
    }
  }

  #text(stream: OutputStream, payload: Uint8Array): void {
    // The engine's log frames are one line each: a frame that holds exactly one "\n", at its end,
    // after nothing buffered, is that line (a "\r" anywhere takes the general path).
    const n = payload.length;
    if (n > 1 && payload[n - 1] === 10 && this.#partial[stream] === "" && payload.indexOf(10) === n - 1 && payload.indexOf(13) < 0) {
      // Ending in "\n" (a whole character), the decoder holds nothing back after it.
      const text = this.#decoders[stream].decode(payload, { stream: true });
      if (text.length > 1) this.onLine(stream, text.slice(0, -1));
      return;
    }
    let buf = this.#partial[stream] + this.#decoders[stream].decode(payload, { stream: true });
    let i: number;
    while ((i = buf.search(/[\r\n]/)) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(buf[i] === "\r" && buf[i + 1] === "\n" ? i + 2 : i + 1);
      if (line) this.onLine(stream, line);
    }
    this.#partial[stream] = buf;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Read a whole multiplexed stream, calling onLine per line. */
export async function demuxLines(
  body: ReadableStream<Uint8Array>,
  onLine: (stream: OutputStream, line: string) => void,
): Promise<void> {
  const demux = new LogDemuxer(onLine);
  for await (const chunk of body) demux.push(chunk);
  demux.end();
}

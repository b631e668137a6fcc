/**
 * What the log senders of one server share, so that a thousand subscribers to one stream cost
 * about as much CPU as a few: each line is JSON-encoded once, senders flush on one common clock
 * (so subscribers in the live tail hold the same batch), and a batch frame is built once and
 * reused by every sender that sends the same lines of the same stream.
 */
import type { LogLine } from "../core/logs.ts";

/** Frames kept for reuse: enough for every stream flushed in one tick on a busy server. */
const FRAME_CACHE = 256;

export class LogFanout {
  private readonly encoded = new WeakMap<LogLine, string>();
  private readonly frames = new Map<string, string>();
  private readonly due = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly flushMs = 5) {}

  /** A line's JSON, encoded once however many subscribers send it. */
  encode(line: LogLine): string {
    let json = this.encoded.get(line);
    if (json === undefined) {
      json = JSON.stringify(line);
      this.encoded.set(line, json);
    }
    return json;
  }

  /** The `lines` frame of a run of lines of `stream`, built once per run. */
  linesFrame(stream: string, lines: readonly LogLine[]): string {
    const key = `${stream}\n${lines[0]!.seq}\n${lines[lines.length - 1]!.seq}`;
    let frame = this.frames.get(key);
    if (frame === undefined) {
      frame = `{"type":"lines","lines":[${lines.map((l) => this.encode(l)).join(",")}]}`;
      if (this.frames.size >= FRAME_CACHE) this.frames.delete(this.frames.keys().next().value!);
      this.frames.set(key, frame);
    }
    return frame;
  }

  /** Calls `flush` at the next tick of the common clock (once, however often asked). */
  schedule(flush: () => void): void {
    this.due.add(flush);
    this.timer ??= setTimeout(() => this.tick(), this.flushMs);
  }

  cancel(flush: () => void): void {
    this.due.delete(flush);
  }

  private tick(): void {
    this.timer = null;
    const due = [...this.due];
    this.due.clear();
    for (const flush of due) flush();
  }
}

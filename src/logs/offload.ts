/**
 * Log offload: a periodic pass moves each stream's cold chunks (every line older than `afterMs`,
 * never the newest chunk) to S3 as segments (log-segment.ts), and says so on the stream.
 *
 *   const offload = new LogOffload({ tiers: store.logTiers, objects, streams, afterMs, announce });
 *   offload.start();          // a pass now, then every intervalMs
 *   await offload.pass();     // what moved, and what failed, per stream
 *
 * Per segment: pack the chunks → upload (confirmed by rclone) → record the segment and delete
 * the chunks in one transaction. Nothing local is deleted before the upload is confirmed: a failed
 * upload leaves every line in place, is told on the stream (once, until a pass works again) and is tried
 * again next pass. Reading the lines back is TieredLogs' job (tiered-logs.ts).
 */
import { errorMessage } from "../core/errors.ts";
import { PeriodicPass } from "./periodic-pass.ts";
import type { StreamKey } from "../core/logs.ts";
import type { LogObjects } from "../core/ports/log-objects.ts";
import type { LogTiers } from "../core/ports/store.ts";
import { packSegment } from "../adapters/store/log-segment.ts";
import { segmentKey } from "./segment-keys.ts";

export interface LogOffloadOptions {
  tiers: LogTiers;
  objects: LogObjects;
  /** The streams that hold chunks (main: the archive's usage()). */
  streams: () => Promise<readonly StreamKey[]>;
  /** Lines older than this go cold. */
  afterMs: number;
  /** Adds a system line to the stream (main: through the bus). */
  announce: (stream: StreamKey, text: string) => Promise<void> | void;
  now?: () => number;
  intervalMs?: number;
  /** Most stored bytes of chunks packed into one segment (default 8 MiB). */
  segmentBytes?: number;
  /** Most segments one pass uploads per stream (default 64); the rest waits for the next pass. */
  segmentsPerPass?: number;
  onError?: (err: unknown) => void;
  /** Told of each segment stored: metrics. */
  onOffloaded?: (lines: number, bytes: number) => void;
}

export interface Offloaded {
  stream: StreamKey;
  lines: number;
  segments: number;
  firstSeq: number;
  lastSeq: number;
  /** Why the stream's offload stopped early (already told on the stream); the lines are still local. */
  error?: string;
}

export class LogOffload {
  readonly #passes: PeriodicPass<Offloaded[]>;
  private readonly abort = new AbortController();
  /** Streams told of a failure since their last good pass: a target that stays down is told once, not every pass. */
  private readonly told = new Set<StreamKey>();

  constructor(private readonly o: LogOffloadOptions) {
    this.#passes = new PeriodicPass(() => this.run(), o.intervalMs ?? 10 * 60_000, o.onError);
  }

  /** One pass over every stream; one at a time. */
  pass(): Promise<Offloaded[]> {
    return this.#passes.run();
  }

  start(): void {
    this.#passes.start();
  }

  /** Stops the timer and any upload in flight (its lines stay local). */
  stop(): Promise<void> {
    this.abort.abort();
    return this.#passes.stop();
  }

  private async run(): Promise<Offloaded[]> {
    const before = (this.o.now ?? Date.now)() - this.o.afterMs;
    const out: Offloaded[] = [];
    for (const stream of await this.o.streams()) {
      if (this.abort.signal.aborted) break;
      const done: Offloaded = { stream, lines: 0, segments: 0, firstSeq: 0, lastSeq: 0 };
      try {
        await this.offloadStream(stream, before, done);
        this.told.delete(stream);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        done.error = errorMessage(err);
        this.o.onError?.(err);
      }
      if (done.lines > 0) await this.o.announce(stream, offloadLine(done, this.o.objects.url));
      if (done.error && !this.told.has(stream)) {
        this.told.add(stream);
        await this.o.announce(stream, `log offload to ${this.o.objects.url} failed; the lines stay here and are tried again: ${done.error}`);
      }
      if (done.lines > 0 || done.error) out.push(done);
    }
    return out;
  }

  private async offloadStream(stream: StreamKey, before: number, done: Offloaded): Promise<void> {
    for (let n = 0; n < (this.o.segmentsPerPass ?? 64); n++) {
      const chunks = await this.o.tiers.coldChunks(stream, before, this.o.segmentBytes ?? 8 * 1024 * 1024);
      const first = chunks[0];
      const last = chunks[chunks.length - 1];
      if (!first || !last) return;
      const body = packSegment(stream, chunks);
      const key = segmentKey(stream, first.firstSeq, last.lastSeq);
      await this.o.objects.put(key, body, this.abort.signal);
      const lines = chunks.reduce((sum, c) => sum + c.lastSeq - c.firstSeq + 1, 0);
      const committed = await this.o.tiers.commitSegment({
        stream,
        firstSeq: first.firstSeq,
        lastSeq: last.lastSeq,
        firstTs: Math.min(...chunks.map((c) => c.minTs)),
        lastTs: Math.max(...chunks.map((c) => c.maxTs)),
        lines,
        bytes: body.byteLength,
        key,
        createdAt: (this.o.now ?? Date.now)(),
      });
      if (!committed) {
        // Retention or a delete took some of these chunks meanwhile: the object holds nothing to keep.
        await this.o.objects.remove(key).catch((err) => this.o.onError?.(err));
        return;
      }
      this.o.onOffloaded?.(lines, body.byteLength);
      if (done.lines === 0) done.firstSeq = first.firstSeq;
      done.lastSeq = last.lastSeq;
      done.lines += lines;
      done.segments++;
    }
  }
}

export function offloadLine(d: Pick<Offloaded, "lines" | "firstSeq" | "lastSeq" | "segments">, url: string): string {
  return `offloaded ${d.lines} lines (seq ${d.firstSeq}–${d.lastSeq}) to ${url} in ${d.segments} segment${d.segments === 1 ? "" : "s"}; they are read back from there`;
}

/**
 * The log bus: gives each stream's log lines a dense seq (1, 2, 3…), fans them out to live
 * subscribers, and persists them to the store in chunks (many lines a row). A stream is a
 * deployment's log or a tenant's (keys from ./streams.ts).
 *
 *   const bus = new LogBus({ store: store.logs });
 *   await bus.open(key);                 // loads the last stored seq once
 *   const sink = bus.sink(key);          // a LogSink for the pipeline
 *   const stop = await bus.subscribe(key, 1, (line) => ws.send(...));
 *
 * Seqs are assigned synchronously in `publish`, so concurrent publishers never share one. That is
 * why a stream must be opened first: `open` reads the store's last seq, so numbering continues
 * after a restart. Publishing to a stream never opened is a bug and throws.
 *
 * Subscribers are called synchronously inside `publish` (several Kilns: once the line's chunk is
 * stored, see `renumberOnConflict`). Their callbacks must be cheap — enqueue and return. Buffering and dropping slow clients is the WebSocket layer's job; a callback that
 * blocks would stall every publisher. A callback that throws is reported via `onError` and skipped.
 *
 * A line may carry its source mark (where the runtime watcher read it in the engine's log); the
 * chunk that holds it is stored with the newest mark per source, in one transaction, which is the
 * watcher's durable resume point (src/containers/runtime-watch.ts).
 *
 * Memory: every line not yet written to the store stays in memory (the front of the buffer may be
 * in flight). So a line is always in the store, in memory, or both — which is what lets
 * `subscribe` replay with no gap.
 */
import { KilnError } from "../core/errors.ts";
import type { LogLine, LogStream, MarkedSink, SourceMark } from "../core/logs.ts";
import type { LogRepo } from "../core/ports/store.ts";
import { capLine, splitLines } from "./lines.ts";
import type { StreamKey } from "./streams.ts";

export type LogListener = (line: LogLine) => void;

export interface LogBusOptions {
  store: LogRepo;
  /** How long a line may wait in memory before it is written. */
  flushIntervalMs?: number;
  /** Most lines in one stored chunk; a full chunk is written at once, without waiting for the timer. */
  maxChunkLines?: number;
  /** Where failures that have no caller go: a background flush, a throwing subscriber. */
  onError?: (err: unknown) => void;
  /** Told of the lines each publish carries, or discards (a forgotten stream): metrics. */
  onLines?: (stream: LogStream, count: number, dropped: boolean) => void;
  /** Told after each chunk is stored, with its stream and last seq (several Kilns: remote-tail.ts wakes the others). */
  onStored?: (key: string, upToSeq: number) => void;
  /**
   * Several Kilns: another may have stored lines with the seqs given here (two writers on one stream
   * at once). When the store refuses a chunk as a conflict, the lines waiting here are numbered again
   * after the store's last seq instead of retrying the same seqs forever. So that no subscriber ever
   * sees a seq that is then renumbered, lines reach subscribers only once stored, in the store's
   * order: the other Kiln's lines, then these under their new seqs — no gap, no repeat. Off (one
   * Kiln), a conflict is an error and lines reach subscribers as they are published.
   */
  renumberOnConflict?: boolean;
}

/** Lines read from the store per page while replaying. */
const REPLAY_PAGE = 1000;

interface StreamLog {
  readonly id: string;
  /** The last seq handed out. */
  lastSeq: number;
  /**
   * Lines not yet confirmed written, ascending and contiguous up to `lastSeq`. Everything below
   * the first of them is in the store. The writer removes lines only after the store confirms.
   */
  readonly unflushed: LogLine[];
  readonly listeners: Set<LogListener>;
  /** Source marks of unflushed lines, by seq ascending: each written with the chunk that holds its line. */
  readonly marks: { seq: number; mark: SourceMark }[];
  writing: Promise<void> | null;
  forgotten: boolean;
  /** renumberOnConflict: the last seq handed to subscribers (every line up to it is stored). */
  delivered: number;
}

export class LogBus {
  private readonly store: LogRepo;
  private readonly flushIntervalMs: number;
  private readonly maxChunkLines: number;
  private readonly onError: (err: unknown) => void;
  private readonly onLines: (stream: LogStream, count: number, dropped: boolean) => void;
  private readonly onStored: (key: string, upToSeq: number) => void;
  private readonly renumberOnConflict: boolean;
  private readonly logs = new Map<string, StreamLog>();
  private readonly loading = new Map<string, Promise<StreamLog>>();
  /** Streams dropped by `forget`: late lines from them are discarded, not an error. */
  private readonly forgotten = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(options: LogBusOptions) {
    this.store = options.store;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.maxChunkLines = Math.max(1, options.maxChunkLines ?? 256);
    this.onError = options.onError ?? ((err) => console.error("log bus:", err));
    this.onLines = options.onLines ?? (() => {});
    this.onStored = options.onStored ?? (() => {});
    this.renumberOnConflict = options.renumberOnConflict ?? false;
  }

  /** Loads the stream's last stored seq, once. Must be awaited before `publish`. Idempotent. */
  async open(key: StreamKey): Promise<void> {
    await this.load(key);
  }

  /**
   * Publishes `text` as one line per newline (each capped at 8 KiB) and returns the last line.
   * A stream dropped by `forget` swallows the text and returns a line with seq 0.
   */
  publish(key: StreamKey, stream: LogStream, text: string, mark?: SourceMark): LogLine {
    const log = this.logs.get(key);
    const ts = Date.now();
    if (!log) {
      if (this.forgotten.has(key)) {
        this.onLines(stream, splitLines(text).length, true);
        return { seq: 0, ts, stream, text };
      }
      throw new KilnError(
        "internal",
        `log bus: stream ${key} was published to before it was opened`,
        "await bus.open(key) before handing out its log sink",
      );
    }
    let line: LogLine | undefined;
    const pieces = splitLines(text);
    this.onLines(stream, pieces.length, false);
    for (const piece of pieces) {
      line = { seq: ++log.lastSeq, ts, stream, text: capLine(piece) };
      log.unflushed.push(line);
      if (!this.renumberOnConflict) this.emit(log, line);
    }
    if (mark) log.marks.push({ seq: line!.seq, mark });
    this.scheduleWrite(log);
    return line!; // splitLines always yields at least one line
  }

  /** A LogSink writing to this stream. Throws now, rather than at the first line, if it was never opened. */
  sink(key: StreamKey): MarkedSink {
    if (!this.logs.has(key) && !this.forgotten.has(key)) {
      throw new KilnError(
        "internal",
        `log bus: a sink was asked for stream ${key} before it was opened`,
        "await bus.open(key) first",
      );
    }
    return (stream, text, mark) => {
      this.publish(key, stream, text, mark);
    };
  }

  /**
   * Lines another Kiln published and stored (src/logs/remote-tail.ts): handed to this stream's
   * subscribers, and numbering here goes on after them. Never stored again. Lines at or below the
   * last seq known here are skipped (seen already), so a repeat is harmless. A stream not open here
   * is left alone: opening it reads its last seq from the store. While lines written here wait to be
   * stored, two Kilns are writing one stream at once (their seqs collide in the store, which refuses
   * the second chunk): the remote lines are then not taken, so this stream's memory stays contiguous.
   */
  absorb(key: StreamKey, lines: readonly LogLine[]): void {
    const log = this.logs.get(key);
    if (!log) return;
    // Lines of ours wait to be stored: their seqs may collide with these, and the store decides
    // (a refused chunk renumbers ours after the other Kiln's, and hands its lines out first).
    if (log.unflushed.length > 0 && lines.some((l) => l.seq > log.lastSeq)) return;
    for (const line of lines) {
      if (line.seq <= log.lastSeq) continue;
      log.lastSeq = line.seq;
      log.delivered = line.seq;
      this.emit(log, line);
    }
  }

  /**
   * Calls `onLine` with every line with seq >= sinceSeq — first the past (store, then memory), then
   * live lines as they are published — in order, with no gap and no repeat. Resolves once the past
   * has been delivered; the returned function stops the subscription. Aborting `signal` stops
   * delivery at once and cuts the replay short (a reader that takes the past at its own pace
   * subscribes again from where it got to); the returned function must still be called.
   */
  async subscribe(key: StreamKey, sinceSeq: number, onLine: LogListener, signal?: AbortSignal): Promise<() => void> {
    const log = await this.load(key);
    const since = Number.isFinite(sinceSeq) ? Math.max(1, Math.floor(sinceSeq)) : 1;
    let lastDelivered = since - 1;
    let replaying = true;
    let active = true;
    const queued: LogLine[] = [];
    const deliver = (line: LogLine) => {
      if (line.seq <= lastDelivered || signal?.aborted) return;
      lastDelivered = line.seq;
      onLine(line);
    };
    const listener: LogListener = (line) => {
      if (!active) return;
      if (replaying) queued.push(line);
      else deliver(line);
    };

    // Listen first, then take the memory snapshot in the same tick: every line is then either in
    // the snapshot, below it (already in the store), or in the queue.
    log.listeners.add(listener);
    // Several Kilns: what subscribers got so far is all stored; the rest comes once stored (live).
    const inMemoryFrom = this.renumberOnConflict ? log.delivered + 1 : (log.unflushed[0]?.seq ?? log.lastSeq + 1);
    const inMemory = this.renumberOnConflict ? [] : log.unflushed.filter((l) => l.seq >= since);
    try {
      let next = since;
      while (next < inMemoryFrom && !signal?.aborted) {
        const page = await this.store.read(key, next, Math.min(REPLAY_PAGE, inMemoryFrom - next));
        const last = page[page.length - 1];
        if (!last) break;
        for (const line of page) if (line.seq < inMemoryFrom && active) deliver(line);
        next = last.seq + 1;
      }
      for (const line of inMemory) if (active) deliver(line);
      replaying = false;
      for (const line of queued) if (active) deliver(line);
      queued.length = 0;
    } catch (err) {
      active = false;
      log.listeners.delete(listener);
      throw err;
    }
    return () => {
      active = false;
      log.listeners.delete(listener);
    };
  }

  /** Live subscribers across all streams (a gauge read at scrape time). */
  subscribers(): number {
    let n = 0;
    for (const log of this.logs.values()) n += log.listeners.size;
    return n;
  }

  /** Whether the stream is open here (absorb takes lines only for those). */
  isOpen(key: StreamKey): boolean {
    return this.logs.has(key);
  }

  /** The last seq handed out for the stream (0 if none); opens it if needed. */
  async lastSeq(key: StreamKey): Promise<number> {
    return (await this.load(key)).lastSeq;
  }

  /** Writes every line published so far to the store. Rejects if the store does. */
  async flush(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => this.writeAll(log)));
  }

  /** Flushes and stops the timer. Lines published afterwards wait for an explicit `flush()`. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  /**
   * Drops the stream's in-memory state (unwritten lines, subscribers) — for a deleted
   * stream (its deployment deleted). Resolves once any write in flight has settled, so the caller can then delete its
   * stored logs without a late chunk reappearing. Later publishes to it are discarded.
   */
  async forget(key: StreamKey): Promise<void> {
    const log = this.logs.get(key);
    this.logs.delete(key);
    this.loading.delete(key);
    this.forgotten.add(key);
    if (!log) return;
    log.forgotten = true;
    log.listeners.clear();
    log.unflushed.length = 0;
    log.marks.length = 0;
    await log.writing?.catch(() => {});
  }

  private load(key: StreamKey): Promise<StreamLog> {
    const known = this.logs.get(key);
    if (known) return Promise.resolve(known);
    const pending = this.loading.get(key);
    if (pending) return pending;
    const loading: Promise<StreamLog> = this.store.lastSeq(key).then(
      (lastSeq) => {
        const log: StreamLog = {
          id: key,
          lastSeq,
          unflushed: [],
          listeners: new Set(),
          marks: [],
          writing: null,
          forgotten: false,
          delivered: lastSeq,
        };
        if (this.loading.get(key) === loading) {
          this.loading.delete(key);
          this.forgotten.delete(key);
          this.logs.set(key, log);
        }
        return log;
      },
      (err: unknown) => {
        if (this.loading.get(key) === loading) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, loading);
    return loading;
  }

  private scheduleWrite(log: StreamLog): void {
    if (log.unflushed.length >= this.maxChunkLines && !log.writing) {
      this.write(log, "full chunks").catch((err) => this.writeFailed(err));
    }
    this.startTimer();
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => this.onTimer(), this.flushIntervalMs);
    this.timer.unref?.();
  }

  private onTimer(): void {
    this.timer = null;
    for (const log of this.logs.values()) {
      if (log.unflushed.length === 0) continue;
      if (log.writing) this.startTimer(); // come back for what that write leaves
      else this.write(log, "everything").catch((err) => this.writeFailed(err));
    }
  }

  /** A background write failed: the lines stay in memory and the timer tries again. */
  private writeFailed(err: unknown): void {
    this.onError(err);
    this.startTimer();
  }

  /**
   * Writes chunks from the front of the buffer: only full ones, or everything (the last chunk
   * partial). At most one writer per stream, so chunks land in order; if one is already
   * running, this returns it.
   */
  private write(log: StreamLog, what: "full chunks" | "everything"): Promise<void> {
    log.writing ??= this.writeChunks(log, what === "full chunks" ? this.maxChunkLines : 1).finally(() => {
      log.writing = null;
    });
    return log.writing;
  }

  private async writeChunks(log: StreamLog, minLines: number): Promise<void> {
    while (log.unflushed.length >= minLines && !log.forgotten) {
      const chunk = log.unflushed.slice(0, this.maxChunkLines);
      const upTo = chunk[chunk.length - 1]!.seq;
      let taken = 0;
      while (taken < log.marks.length && log.marks[taken]!.seq <= upTo) taken++;
      try {
        await this.store.appendChunk(log.id, chunk, newestPerSource(log.marks, taken));
      } catch (err) {
        if (!(this.renumberOnConflict && err instanceof KilnError && err.kind === "conflict")) throw err;
        await this.renumber(log);
        continue;
      }
      log.unflushed.splice(0, chunk.length);
      log.marks.splice(0, taken);
      if (this.renumberOnConflict) {
        for (const line of chunk) {
          if (line.seq <= log.delivered) continue;
          log.delivered = line.seq;
          this.emit(log, line);
        }
      }
      this.onStored(log.id, upTo);
    }
  }

  /**
   * Another Kiln stored lines with the seqs waiting here: hand its lines to local subscribers, then
   * number the waiting lines on after the store's last seq (new line objects); they are handed out
   * once stored under those.
   */
  private async renumber(log: StreamLog): Promise<void> {
    const first = log.unflushed[0]?.seq;
    if (first === undefined) return;
    const stored = await this.store.lastSeq(log.id);
    const theirs = stored >= first ? await this.store.read(log.id, first, stored - first + 1) : [];
    const delta = stored + 1 - (log.unflushed[0]?.seq ?? stored + 1);
    if (delta <= 0) return; // nothing of ours was taken: the next write tries again
    for (let i = 0; i < log.unflushed.length; i++) log.unflushed[i] = { ...log.unflushed[i]!, seq: log.unflushed[i]!.seq + delta };
    for (const m of log.marks) m.seq += delta;
    log.lastSeq += delta;
    this.onError(new KilnError("conflict", `log bus: stream ${log.id} was written by another Kiln at once; ${log.unflushed.length} line(s) numbered again from ${stored + 1}`));
    for (const line of theirs) {
      if (line.seq <= log.delivered) continue;
      log.delivered = line.seq;
      this.emit(log, line);
    }
  }

  private emit(log: StreamLog, line: LogLine): void {
    for (const listener of log.listeners) {
      try {
        listener(line);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private async writeAll(log: StreamLog): Promise<void> {
    while (log.unflushed.length > 0 && !log.forgotten) await this.write(log, "everything");
  }
}

/** The newest of the first `n` marks for each container and output (marks come in seq order). */
function newestPerSource(marks: readonly { mark: SourceMark }[], n: number): SourceMark[] {
  const newest: SourceMark[] = [];
  // From the newest back; a stream has few sources (replicas × stdout/stderr), so a scan of them is cheap.
  for (let i = n - 1; i >= 0; i--) {
    const m = marks[i]!.mark;
    if (!newest.some((k) => k.container === m.container && k.output === m.output)) newest.push(m);
  }
  return newest;
}

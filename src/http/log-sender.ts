/**
 * Sends one subscriber's log lines as protocol v2 frames (./log-frames.ts). Lines are batched: a
 * batch goes out when it reaches `maxBatchBytes` or `flushMs` after its first line, so a replay
 * travels in few large frames and the live tail waits a few ms at most. Senders share a
 * LogFanout (./log-fanout.ts): each line is encoded once and each frame built once, however many
 * subscribers send it. `line` is cheap (the bus
 * calls it inside `publish`): it appends to the batch and, at most, sends one frame.
 *
 * The replay goes at the reader's pace: when the socket's queued bytes pass `maxQueuedBytes`
 * during the replay, the sender *stalls* (drops its batch, takes no more lines); the caller then
 * stops the subscription, waits for the socket to drain, calls `resume()` and subscribes again
 * from `nextSeq`. In the live tail a reader over the bound is *cut*: one `cut` frame naming the
 * first seq it has not been sent, then close with CLOSE_CUT. Either way Kiln holds at most one
 * batch plus the bound per subscriber. v1 sockets get the same cut with no frame (the close
 * reason carries the seq).
 */
import type { LogLine } from "../core/logs.ts";
import { LogFanout } from "./log-fanout.ts";
import { CLOSE_CUT, type LogFrame } from "./log-frames.ts";

/** The socket as the sender sees it. */
export interface FrameSocket {
  send(data: string): void;
  /** Bytes accepted by `send` but not yet written to the network. */
  queuedBytes(): number;
  close(code: number, reason: string): void;
}

export interface LogSenderOptions {
  /** 1: one LogLine per message (old clients); 2: frames. */
  version: 1 | 2;
  /** The stream's key: frames of the same lines of the same stream are built once (`fanout`). */
  stream?: string;
  /** Shared by the senders of one server: line encoding, the flush clock, frame reuse. */
  fanout?: LogFanout;
  /** Since-1: the seq the subscriber already has. */
  after: number;
  maxBatchBytes?: number;
  flushMs?: number;
  maxQueuedBytes?: number;
}

export const LOG_SENDER_DEFAULTS = { maxBatchBytes: 64 * 1024, maxQueuedBytes: 8 * 1024 * 1024 } as const;

export class LogSender {
  private batch: LogLine[] = [];
  private batchBytes = 0;
  private readonly fanout: LogFanout;
  private readonly stream: string;
  private readonly flushNow = () => this.flush();
  /** The last seq handed to the socket. */
  private sentSeq: number;
  /** The last seq taken into the batch. */
  private takenSeq: number;
  private ended = false;
  private replaying = true;
  private stalledAt = false;
  private readonly o: { version: 1 | 2; maxBatchBytes: number; maxQueuedBytes: number };

  constructor(
    private readonly socket: FrameSocket,
    options: LogSenderOptions,
  ) {
    this.o = { ...LOG_SENDER_DEFAULTS, ...options };
    this.fanout = options.fanout ?? new LogFanout();
    this.stream = options.stream ?? "";
    this.sentSeq = options.after;
    this.takenSeq = options.after;
  }

  /** True once cut or closed: the caller should unsubscribe. */
  get done(): boolean {
    return this.ended;
  }

  /** The replay outran the reader: stop the subscription, wait for the drain, `resume()`. */
  get stalled(): boolean {
    return this.stalledAt;
  }

  /** The first seq not yet handed to the socket: where to subscribe again after a stall. */
  get nextSeq(): number {
    return this.sentSeq + 1;
  }

  resume(): void {
    this.stalledAt = false;
  }

  line(line: LogLine): void {
    if (this.ended || this.stalledAt || line.seq <= this.takenSeq) return;
    const json = this.fanout.encode(line);
    this.takenSeq = line.seq;
    if (this.o.version === 1) {
      this.push(json, line.seq);
      return;
    }
    this.batch.push(line);
    this.batchBytes += json.length + 1;
    if (this.batchBytes >= this.o.maxBatchBytes) this.flush();
    else if (this.batch.length === 1) this.fanout.schedule(this.flushNow);
  }

  /** The replay is done: flush it and send the marker (v2). Does nothing if that flush stalls. */
  replayed(): void {
    this.flush();
    if (this.ended || this.stalledAt) return;
    this.replaying = false;
    if (this.o.version === 2) this.frame({ type: "replayed", seq: this.sentSeq });
  }

  /** Sends what is batched now. */
  flush(): void {
    this.fanout.cancel(this.flushNow);
    if (this.ended || this.stalledAt || this.batch.length === 0) return;
    const body = this.fanout.linesFrame(this.stream, this.batch);
    this.batch = [];
    this.batchBytes = 0;
    this.push(body, this.takenSeq);
  }

  /** The socket closed: drop the batch. */
  stop(): void {
    this.ended = true;
    this.dropBatch();
  }

  private dropBatch(): void {
    this.fanout.cancel(this.flushNow);
    this.batch = [];
    this.batchBytes = 0;
    this.takenSeq = this.sentSeq;
  }

  private push(data: string, lastSeq: number): void {
    if (this.socket.queuedBytes() > this.o.maxQueuedBytes) {
      if (!this.replaying) return this.cut();
      this.stalledAt = true;
      return this.dropBatch();
    }
    this.socket.send(data);
    this.sentSeq = lastSeq;
  }

  private frame(frame: LogFrame): void {
    this.socket.send(JSON.stringify(frame));
  }

  private cut(): void {
    const resumeFrom = this.sentSeq + 1;
    if (this.o.version === 2) this.frame({ type: "cut", resumeFrom });
    this.stop();
    this.socket.close(CLOSE_CUT, `too slow: resume with since=${resumeFrom}`);
  }
}

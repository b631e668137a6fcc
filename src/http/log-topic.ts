/**
 * The live tail of one log stream as one Bun pub/sub topic: the topic takes the stream's lines
 * from the bus once, batches them (same bounds and clock as ./log-sender.ts) and publishes each
 * `lines` frame once with `server.publish`, so Bun writes it to every live-tail subscriber in
 * native code instead of one JS `send` per socket.
 *
 * A subscriber replays per socket (./log-sender.ts) and joins the topic when it reaches the live
 * tail. The seam is exact: the joiner says the last seq it was sent (`sentSeq`). The topic has
 * published up to `published` and holds a batch `published+1 … seen`; `sentSeq` is in between
 * (both take every line synchronously from the bus). If the joiner has everything the next frame
 * starts after, it subscribes now; otherwise it waits for that frame, which is cut for it: the
 * whole frame if it has none of it (it subscribes just before the publish), or only the lines it
 * has not got, sent to it alone right after the publish, and it subscribes then. Either way every
 * seq reaches it once.
 *
 * Backpressure: Bun's publish does not stop for a slow socket; past the server's
 * backpressureLimit (16 MiB by default) it silently drops the frame for that socket. So after
 * every publish the topic checks each member's queued bytes (Bun's getBufferedAmount grows as
 * publish writes) and cuts one over `maxQueuedBytes` (8 MiB) exactly as the sender does: a `cut`
 * frame naming the first seq it was not handed, then close with CLOSE_CUT. A member is over the
 * bound by at most one frame when cut, far from the 16 MiB where Bun would drop. (Frames under
 * 16 KiB wait in Bun's topic queue until the end of the event-loop turn before they count in
 * getBufferedAmount; those are timer flushes, one per stream per turn, so the margin holds.)
 * Hence TOPIC_MAX_QUEUED_BYTES: with a larger bound the caller sends per socket instead.
 */
import type { LogLine } from "../core/logs.ts";
import type { LogFanout } from "./log-fanout.ts";
import { CLOSE_CUT } from "./log-frames.ts";
import type { FrameSocket } from "./log-sender.ts";

/** Half of Bun's default backpressureLimit (16 MiB), past which publish silently drops a socket's frames. */
export const TOPIC_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** A member's socket: a FrameSocket that can join and leave a pub/sub topic (Bun's ServerWebSocket). */
export interface TopicSocket extends FrameSocket {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/** The server side of pub/sub: Bun's `server.publish`. */
export interface TopicServer {
  publish(topic: string, data: string): number;
}

/** Where the topic gets its lines: LogBus.subscribe. */
export type TopicSource = (sinceSeq: number, onLine: (line: LogLine) => void) => Promise<() => void>;

export interface LogTopicOptions {
  maxBatchBytes: number;
  maxQueuedBytes: number;
}

interface Member {
  /** The last seq handed to the socket when it joined; once subscribed it gets every frame published. */
  sentSeq: number;
}

export class LogTopic {
  /** Everything up to here went out on the topic. */
  private published = 0;
  private batch: LogLine[] = [];
  private batchBytes = 0;
  private readonly members = new Map<TopicSocket, Member>();
  /** Joined, waiting for the next frame to line up with it. */
  private readonly joining = new Map<TopicSocket, Member>();
  private unsubscribe: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private users = 0;
  private closed = false;
  private readonly flushNow = () => this.flush();

  constructor(
    readonly name: string,
    private readonly stream: string,
    private readonly server: TopicServer,
    private readonly source: TopicSource,
    private readonly fanout: LogFanout,
    private readonly o: LogTopicOptions,
  ) {}

  /**
   * Takes a place in the topic (the topic stays open until every user has released it) and
   * resolves once it follows the bus. `fromSeq`: the first seq the caller has not been sent; the
   * topic's first user starts it there.
   */
  async acquire(fromSeq: number): Promise<void> {
    this.users++;
    if (!this.starting) {
      this.published = fromSeq - 1;
      this.starting = this.source(fromSeq, (line) => this.line(line)).then(
        (stop) => {
          if (this.closed) stop();
          else this.unsubscribe = stop;
        },
        (err: unknown) => {
          this.close();
          throw err;
        },
      );
    }
    try {
      await this.starting;
    } catch (err) {
      this.users--;
      throw err;
    }
  }

  /** Gives the place back (and the socket, if it joined). The last user out stops the topic. */
  release(socket?: TopicSocket): void {
    if (socket) this.leave(socket);
    if (--this.users <= 0) this.close();
  }

  /** Called once the topic has stopped (its registry forgets it). */
  onClosed: () => void = () => {};

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.fanout.cancel(this.flushNow);
    this.batch = [];
    this.batchBytes = 0;
  }

  /** True while the topic follows the bus and can take joiners. */
  get open(): boolean {
    return !this.closed && this.unsubscribe !== null;
  }

  /** The last seq the topic has taken from the bus. */
  get seenSeq(): number {
    return this.published + this.batch.length;
  }

  /**
   * The socket has been sent every seq up to `sentSeq` and now takes the rest from the topic.
   * False if `sentSeq` is not within what the topic holds (the caller keeps sending per socket).
   */
  join(socket: TopicSocket, sentSeq: number): boolean {
    if (!this.open || sentSeq < this.published || sentSeq > this.seenSeq) return false;
    const member: Member = { sentSeq };
    if (sentSeq === this.seenSeq && this.batch.length === 0) {
      socket.subscribe(this.name);
      this.members.set(socket, member);
    } else this.joining.set(socket, member);
    return true;
  }

  /** The socket closed. */
  leave(socket: TopicSocket): void {
    this.joining.delete(socket);
    if (!this.members.delete(socket)) return;
    try {
      socket.unsubscribe(this.name);
    } catch {
      // already closed
    }
  }

  /** Live subscribers on the topic (joined or joining). */
  get size(): number {
    return this.members.size + this.joining.size;
  }

  private line(line: LogLine): void {
    if (this.closed || line.seq <= this.seenSeq) return;
    this.batch.push(line);
    this.batchBytes += this.fanout.encode(line).length + 1;
    if (this.batchBytes >= this.o.maxBatchBytes) this.flush();
    else if (this.batch.length === 1) this.fanout.schedule(this.flushNow);
  }

  /** Publishes the batch as one frame, brings the joiners in on it, then cuts members over the bound. */
  flush(): void {
    this.fanout.cancel(this.flushNow);
    if (this.closed || this.batch.length === 0) return;
    const batch = this.batch;
    const first = batch[0]!.seq;
    const last = batch[batch.length - 1]!.seq;
    const frame = this.fanout.linesFrame(this.stream, batch);
    this.batch = [];
    this.batchBytes = 0;
    this.published = last;
    // Joiners that have none of this frame take it from the topic.
    for (const [socket, m] of this.joining) {
      if (m.sentSeq !== first - 1) continue;
      this.joining.delete(socket);
      socket.subscribe(this.name);
      this.members.set(socket, m);
    }
    if (this.members.size > 0) this.server.publish(this.name, frame);
    // Joiners that have part of it get the rest on their own, then subscribe for what follows.
    for (const [socket, m] of this.joining) {
      this.joining.delete(socket);
      if (m.sentSeq < last) {
        if (socket.queuedBytes() > this.o.maxQueuedBytes) {
          this.cut(socket, m.sentSeq + 1);
          continue;
        }
        socket.send(this.fanout.linesFrame(this.stream, batch.slice(m.sentSeq - first + 1)));
        m.sentSeq = last;
      }
      socket.subscribe(this.name);
      this.members.set(socket, m);
    }
    // Members have been handed everything up to `last`.
    for (const socket of this.members.keys()) if (socket.queuedBytes() > this.o.maxQueuedBytes) this.cut(socket, last + 1);
  }

  /** As LogSender's cut: the frame naming the first seq not handed to the socket, then close. */
  private cut(socket: TopicSocket, resumeFrom: number): void {
    this.members.delete(socket);
    this.joining.delete(socket);
    try {
      socket.send(JSON.stringify({ type: "cut", resumeFrom }));
      socket.unsubscribe(this.name);
      socket.close(CLOSE_CUT, `too slow: resume with since=${resumeFrom}`);
    } catch {
      // closed meanwhile
    }
  }
}

/** The topics of one server, one per stream, opened on first use and closed with their last user. */
export class LogTopics {
  private readonly topics = new Map<string, LogTopic>();

  constructor(
    private readonly server: TopicServer,
    private readonly source: (stream: string) => TopicSource,
    private readonly fanout: LogFanout,
    private readonly o: LogTopicOptions,
  ) {}

  /** The stream's topic, with a place taken in it (give it back with `topic.release`). */
  async acquire(stream: string, fromSeq: number): Promise<LogTopic> {
    let topic = this.topics.get(stream);
    if (!topic) {
      const t = new LogTopic(`logs:${stream}`, stream, this.server, this.source(stream), this.fanout, this.o);
      t.onClosed = () => {
        if (this.topics.get(stream) === t) this.topics.delete(stream);
      };
      this.topics.set(stream, t);
      topic = t;
    }
    await topic.acquire(fromSeq);
    return topic;
  }
}

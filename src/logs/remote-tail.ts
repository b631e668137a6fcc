/**
 * Log lines across Kilns sharing one Postgres: after a Kiln stores a chunk (LogBus onStored) it
 * sends NOTIFY kiln_logs with the stream and the chunk's last seq; every other Kiln then reads the
 * lines it has not seen from the store and hands them to its own subscribers (LogBus.absorb).
 *
 *   const tail = await RemoteLogTail.start({ db, bus, logs, instance });
 *   new LogBus({ …, onStored: (key, upTo) => tail.stored(key, upTo) });
 *
 * The store is the one source: NOTIFY only wakes. A notice comes after the commit, so the lines are
 * there to read; reads of one stream run one after another, from the last seq the bus knows, so a
 * subscriber gets each line once and in order — replayed from the store, or live (the bus's seam).
 * A notice lost while the listening connection was away is made up by the next one on that stream
 * (every read starts where the bus is, not where the notice says), and at each (re)listen every
 * stream seen so far is read up to date. A stream not open here is opened (a deployment another Kiln
 * made since this one started), so that this Kiln may log to it too.
 */
import type { SQL } from "bun";
import { errorMessage } from "../core/errors.ts";
import type { LogRepo } from "../core/ports/store.ts";
import type { LogBus } from "./bus.ts";
import type { StreamKey } from "./streams.ts";

const CHANNEL = "kiln_logs";
/** Lines read per store read while catching up. */
const PAGE = 1000;

export interface RemoteLogTailOptions {
  db: SQL;
  bus: LogBus;
  /** The stored log (TieredLogs): read from where the bus is. */
  logs: Pick<LogRepo, "read">;
  /** Who sent a notice: a Kiln ignores its own. */
  instance: string;
  onError?: (err: unknown) => void;
}

interface Notice {
  s: string;
  u: number;
  o: string;
}

export class RemoteLogTail {
  /** Per stream, the catch-up in progress (one at a time, so lines arrive in order). */
  readonly #reading = new Map<string, Promise<void>>();
  /** Streams another Kiln wrote to, read up to date again after a reconnect. */
  readonly #seen = new Set<string>();
  #sub: { unlisten(): Promise<void> } | null = null;
  #listens = 0;

  private constructor(private readonly o: RemoteLogTailOptions) {}

  static async start(o: RemoteLogTailOptions): Promise<RemoteLogTail> {
    const t = new RemoteLogTail(o);
    t.#sub = await o.db.listen(CHANNEL, (payload) => t.#onNotice(payload), () => t.#onListen());
    return t;
  }

  /** Tell the other Kilns that `key` is stored up to `upToSeq` (the bus's onStored). */
  stored(key: string, upToSeq: number): void {
    const notice: Notice = { s: key, u: upToSeq, o: this.o.instance };
    this.o.db.notify(CHANNEL, JSON.stringify(notice)).catch((err: unknown) => this.#error(err));
  }

  /** Waits for the reads in progress (tests). */
  async settled(): Promise<void> {
    while (this.#reading.size) await Promise.allSettled([...this.#reading.values()]);
  }

  async stop(): Promise<void> {
    await this.#sub?.unlisten().catch(() => {});
    this.#sub = null;
    await this.settled();
  }

  #onListen(): void {
    // The first listen starts from nothing missed; a later one follows a reconnect: read every stream seen.
    if (this.#listens++ === 0) return;
    for (const key of this.#seen) this.#catchUp(key);
  }

  #onNotice(payload: string): void {
    let n: Notice;
    try {
      n = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (n.o === this.o.instance || typeof n.s !== "string") return;
    this.#seen.add(n.s);
    this.#catchUp(n.s);
  }

  /** Reads what the bus has not seen of the stream; a notice while a read runs queues one more read after it. */
  #catchUp(key: string): void {
    const before = this.#reading.get(key) ?? Promise.resolve();
    const next = before.then(() => this.#read(key as StreamKey)).catch((err) => this.#error(err));
    this.#reading.set(key, next);
    void next.finally(() => {
      if (this.#reading.get(key) === next) this.#reading.delete(key);
    });
  }

  async #read(key: StreamKey): Promise<void> {
    // A stream this Kiln has not opened yet (a deployment made on another Kiln since this one started):
    // opened now, so that this Kiln can log to it and serve it; opening reads its last seq, nothing to absorb.
    if (!this.o.bus.isOpen(key)) return this.o.bus.open(key);
    while (this.o.bus.isOpen(key)) {
      const from = (await this.o.bus.lastSeq(key)) + 1;
      const lines = await this.o.logs.read(key, from, PAGE);
      if (lines.length === 0) return;
      this.o.bus.absorb(key, lines);
      // Not taken (this Kiln's own lines wait to be stored, and its write settles the order), or the last page.
      if (lines.length < PAGE || (await this.o.bus.lastSeq(key)) < from) return;
    }
  }

  #error(err: unknown): void {
    (this.o.onError ?? ((e) => console.error(`remote log tail: ${errorMessage(e)}`)))(err);
  }
}

/**
 * Follows each running app container's output into the log bus, and says when it stops.
 * One watch per container (a deployment has one per replica, and old ones keep being followed
 * while they drain after a swap, until the swap unwatches them).
 * Lines are followed with the engine's timestamps through a LogCursor per container (./log-cursor.ts):
 * each line is taken once by (output stream, engine time, position at that time), so neither a
 * resume's overlap nor the engine re-reading a file after a rotation stores a line twice. When a
 * followed container is watched again (its stream broke, Kiln restarted it), its log resumes just
 * after the last line taken — no gap, no duplicate; a new container starts from its own beginning.
 * Each line goes to the sink with its source mark, which the store keeps with the chunk holding it:
 * a Kiln restarted (even after a crash) resumes each container after its last stored line.
 * Loss Kiln cannot prevent is said, never silent, as a system line in the same log: the engine no
 * longer keeping lines from before a resume ("…lost while Kiln was down": how many is unknown, the
 * engine numbers no line), or Docker's follow skipping a rotated file when it fell more than a file
 * behind — it shows by re-reading a file later, and the span is then recounted against what the
 * engine keeps: "N lines lost while the engine rotated its log", or "…, perhaps" when the engine no
 * longer keeps the file before the re-read one. A container whose output ends and that no longer
 * runs is reported once (`onExit`); what to do about it is reconcile/app-convergence.ts's
 * business. (Pool members are not watched: a dead member is replaced.)
 * An id that is not a container's — a Swarm service's `swarm:<service>` — is followed by the
 * DelegatedFollow that owns it (./service-follow.ts), with the same watch, unwatch and leadership;
 * its end is nobody's exit (Swarm restarts tasks).
 */
import type { MarkedSink } from "../core/logs.ts";
import type { LogSources } from "../core/ports/store.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { OutputStream } from "../formats/log-demux.ts";
import { countInSpan, LogCursor, missing, type RereadCheck } from "./log-cursor.ts";

/** What the watcher needs of the engine: the port's follow, with raw entries (DockerEngine has it). */
export interface FollowingRuntime extends Pick<ContainerRuntime, "inspectContainer"> {
  followLogs(
    id: string,
    opts: Parameters<ContainerRuntime["followLogs"]>[1] & {
      onEntry?: (stream: OutputStream, ns: bigint, text: string) => void;
      /** false: read what the engine keeps and end. */
      follow?: boolean;
      until?: bigint;
    },
  ): Promise<void>;
}

export const LOST_WHILE_DOWN = "lines lost while Kiln was down";
export const LOST_IN_ROTATION = "lines lost while the engine rotated its log";

/** A follow for ids that are not containers (./service-follow.ts): it resumes itself and ends when its source is gone. */
export interface DelegatedFollow {
  owns(id: string): boolean;
  /** Follows until the source is gone or `signal` aborts. */
  follow(id: string, sink: MarkedSink, signal: AbortSignal): Promise<void>;
  /** The id is nobody's any more: its resume points go. */
  forget(id: string): void;
}

export interface ExitReport {
  deploymentId: string;
  containerId: string;
}

interface Watch {
  deploymentId: string;
  containerId: string;
  abort: AbortController;
}

export class RuntimeWatcher {
  readonly #watches = new Map<string, Watch>();
  /** How far each container still somebody's was read. */
  readonly #cursors = new Map<string, LogCursor>();

  constructor(
    private readonly runtime: FollowingRuntime,
    private readonly sinkFor: (deploymentId: string) => MarkedSink,
    private readonly onExit: (report: ExitReport) => void,
    /** Where each container's log was last stored: a Kiln restarted resumes after it. */
    private readonly sources: LogSources,
    /** KILN_ENGINE=swarm: the follow of `swarm:<service>` ids. */
    private readonly delegated?: DelegatedFollow,
  ) {}

  /**
   * Follow `containerId`: after the last line taken from it when it was watched before, else
   * after the last line stored from it (a Kiln restarted), else from `sinceSeconds` (epoch,
   * default now) — but from no earlier than marks have been kept when the container has none
   * stored (its earlier lines were stored by a Kiln that kept no marks).
   */
  watch(deploymentId: string, containerId: string, sinceSeconds = Math.floor(Date.now() / 1000)): void {
    this.#stop(containerId);
    const w: Watch = { deploymentId, containerId, abort: new AbortController() };
    this.#watches.set(containerId, w);
    if (this.delegated?.owns(containerId)) void this.#followDelegated(w);
    else void this.#follow(deploymentId, w, sinceSeconds);
  }

  /** Whether `containerId` is followed now (for deployments' convergence). */
  watching(deploymentId: string, containerId: string): boolean {
    return this.#watches.get(containerId)?.deploymentId === deploymentId;
  }

  /** Stop following every container of the deployment (stop, delete). */
  unwatch(deploymentId: string): void {
    for (const w of [...this.#watches.values()]) {
      if (w.deploymentId !== deploymentId) continue;
      this.#cursors.delete(w.containerId);
      if (this.delegated?.owns(w.containerId)) this.delegated.forget(w.containerId);
      this.#stop(w.containerId);
    }
  }

  /** Stop following one container (drained after a swap): its end is nobody's exit. */
  unwatchContainer(containerId: string): void {
    this.#stop(containerId);
  }

  /** A container that is no longer anybody's (removed, replaced): its resume point goes. */
  forget(containerId: string): void {
    this.#cursors.delete(containerId);
    if (this.delegated?.owns(containerId)) this.delegated.forget(containerId);
    this.sources.forgetSource(containerId).catch(() => {}); // a leftover row is harmless: the container is gone
  }

  stopAll(): void {
    for (const id of [...this.#watches.keys()]) this.#stop(id);
  }

  #stop(containerId: string): void {
    this.#watches.get(containerId)?.abort.abort();
    this.#watches.delete(containerId);
  }

  async #followDelegated(w: Watch): Promise<void> {
    await this.delegated!.follow(w.containerId, this.sinkFor(w.deploymentId), w.abort.signal).catch(() => {});
    if (this.#watches.get(w.containerId) === w) this.#watches.delete(w.containerId);
  }

  /** After a re-read: did Docker's follow skip lines before it? Counted against what the engine still keeps. */
  async #recount(w: Watch, sink: MarkedSink, check: RereadCheck): Promise<void> {
    const counts = new Map<bigint, number>();
    try {
      await this.runtime.followLogs(w.containerId, {
        follow: false,
        after: check.from - 1n,
        until: check.to,
        signal: w.abort.signal,
        onLine: () => {},
        onEntry: (stream, ns) => countInSpan(check, counts, stream, ns),
      });
    } catch (err) {
      if (!w.abort.signal.aborted) sink("system", `${LOST_IN_ROTATION}, perhaps: Docker's follow re-read a file and the recount failed (${String(err)})`);
      return;
    }
    if (w.abort.signal.aborted) return;
    // Retention drops whole files: if the engine keeps any of the span, it keeps all of the file
    // before the re-read one — the file a skip would have missed — and the count is exact.
    if (counts.size === 0) {
      sink("system", `${LOST_IN_ROTATION}, perhaps: Docker's follow re-read a file and the one before it (${check.stream}, before ${stampIso(check.to)}) is no longer kept to recount`);
      return;
    }
    const lost = missing(check, counts);
    if (lost > 0) sink("system", `${lost} ${LOST_IN_ROTATION} (Docker's follow fell a file behind and skipped ${check.stream} lines before ${stampIso(check.to)})`);
  }

  async #follow(deploymentId: string, w: Watch, sinceSeconds: number): Promise<void> {
    const sink = this.sinkFor(deploymentId);
    let cursor = this.#cursors.get(w.containerId);
    if (!cursor) {
      const stored = await this.sources.sourceMarks(w.containerId).catch(() => null);
      if (w.abort.signal.aborted) return;
      cursor = this.#cursors.get(w.containerId); // a watch meanwhile may have made one
      if (!cursor) {
        cursor = stored?.marks.length ? LogCursor.restore(stored.marks) : new LogCursor();
        if (stored && !stored.marks.length) sinceSeconds = Math.max(sinceSeconds, Math.floor(stored.keptSince / 1000));
        this.#cursors.set(w.containerId, cursor);
      }
    }
    const container = w.containerId;
    let drained = false;
    const recounts: Promise<void>[] = [];
    while (!w.abort.signal.aborted) {
      const from = cursor.resumeFrom();
      const began = Date.now();
      cursor.beginRead();
      let rereads = cursor.rereads;
      const onEntry = (stream: OutputStream, ns: bigint, text: string) => {
        if (w.abort.signal.aborted) return; // a later watch owns the cursor now
        const verdict = cursor.take(stream, ns);
        if (cursor.rereads !== rereads) {
          rereads = cursor.rereads;
          for (const check of cursor.takeRereadCheck()) recounts.push(this.#recount(w, sink, check));
        }
        if (verdict === "seen") return;
        // A gap on the read that drains a stopped container is the follow having fallen behind, not an outage.
        if (verdict === "gap") sink("system", `${drained ? LOST_IN_ROTATION : LOST_WHILE_DOWN} (the engine no longer keeps ${stream} lines before ${stampIso(ns)}; Docker numbers none, so how many is unknown)`);
        const at = cursor.position(stream)!;
        sink("runtime", text, { container, output: stream, ns: at.ns, count: at.count });
      };
      try {
        // `after` is exclusive and the cursor wants its mark's time again (equal times): one ns less.
        await this.runtime.followLogs(w.containerId, { ...(from === undefined ? { sinceSeconds } : { after: from - 1n }), signal: w.abort.signal, onLine: sink, onEntry });
      } catch {
        // the stream broke (engine restart, container removed): decide below
      }
      if (w.abort.signal.aborted) return;
      const info = await this.runtime.inspectContainer(w.containerId).catch(() => null);
      if (w.abort.signal.aborted) return;
      if (info?.running) {
        // The stream broke while it runs: resume after the last line (not at once if it broke at once).
        drained = false;
        if (Date.now() - began < 1000) await Bun.sleep(500);
        continue;
      }
      if (info && !drained) {
        // Docker's follow may end as the container stops while it is still in a rotated file, never
        // reading the last one; for a stopped container the same request is a plain read of what
        // the engine keeps, from the cursor on — it drains the rest.
        drained = true;
        continue;
      }
      await Promise.all(recounts); // what they say belongs before the exit
      if (w.abort.signal.aborted) return;
      this.#watches.delete(w.containerId);
      this.onExit({ deploymentId, containerId: w.containerId });
      return;
    }
  }
}

function stampIso(ns: bigint): string {
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}Z`;
}

/**
 * Follows each running app container's output into the log bus, and says when it stops.
 * One watch per container (a deployment has one per replica, and old ones keep being followed
 * while they drain after a swap, until the swap unwatches them).
 * Lines are followed with the engine's timestamps, and the last one seen is kept per container:
 * when a container Kiln restarts is watched again, its log resumes just after that line — no gap,
 * no duplicate; a new container starts from its own beginning. A container whose output ends and
 * that no longer runs is reported once (`onExit`); what to do about it is reconcile/app-convergence.ts's
 * business. (Pool members are not watched: a dead member is replaced.)
 */
import type { LogSink } from "../core/logs.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";

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
  /** The engine time (ns) of the last line seen, per container still somebody's. */
  readonly #stamps = new Map<string, bigint>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly sinkFor: (deploymentId: string) => LogSink,
    private readonly onExit: (report: ExitReport) => void,
  ) {}

  /**
   * Follow `containerId`: after the last line seen from it when it was watched before, else from
   * `sinceSeconds` (epoch), default now.
   */
  watch(deploymentId: string, containerId: string, sinceSeconds = Math.floor(Date.now() / 1000)): void {
    this.#stop(containerId);
    const w: Watch = { deploymentId, containerId, abort: new AbortController() };
    this.#watches.set(containerId, w);
    void this.#follow(deploymentId, w, sinceSeconds);
  }

  /** Whether `containerId` is followed now (for deployments' convergence). */
  watching(deploymentId: string, containerId: string): boolean {
    return this.#watches.get(containerId)?.deploymentId === deploymentId;
  }

  /** Stop following every container of the deployment (stop, delete). */
  unwatch(deploymentId: string): void {
    for (const w of [...this.#watches.values()]) {
      if (w.deploymentId !== deploymentId) continue;
      this.#stamps.delete(w.containerId);
      this.#stop(w.containerId);
    }
  }

  /** Stop following one container (drained after a swap): its end is nobody's exit. */
  unwatchContainer(containerId: string): void {
    this.#stop(containerId);
  }

  /** A container that is no longer anybody's (removed, replaced): its resume point goes. */
  forget(containerId: string): void {
    this.#stamps.delete(containerId);
  }

  stopAll(): void {
    for (const id of [...this.#watches.keys()]) this.#stop(id);
  }

  #stop(containerId: string): void {
    this.#watches.get(containerId)?.abort.abort();
    this.#watches.delete(containerId);
  }

  async #follow(deploymentId: string, w: Watch, sinceSeconds: number): Promise<void> {
    const sink = this.sinkFor(deploymentId);
    const onStamp = (ns: bigint) => {
      if (!w.abort.signal.aborted) this.#stamps.set(w.containerId, ns);
    };
    while (!w.abort.signal.aborted) {
      const after = this.#stamps.get(w.containerId);
      const began = Date.now();
      try {
        await this.runtime.followLogs(w.containerId, { ...(after === undefined ? { sinceSeconds } : { after }), signal: w.abort.signal, onLine: sink, onStamp });
      } catch {
        // the stream broke (engine restart, container removed): decide below
      }
      if (w.abort.signal.aborted) return;
      const info = await this.runtime.inspectContainer(w.containerId).catch(() => null);
      if (w.abort.signal.aborted) return;
      if (info?.running) {
        // The stream broke while it runs: resume after the last line (not at once if it broke at once).
        if (Date.now() - began < 1000) await Bun.sleep(500);
        continue;
      }
      this.#watches.delete(w.containerId);
      this.onExit({ deploymentId, containerId: w.containerId });
      return;
    }
  }
}

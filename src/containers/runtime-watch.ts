/**
 * Follows each running app container's output into the log bus, and notices when it dies.
 * One watch per deployment; a new container replaces the old watch (zero-downtime swaps).
 * Plain inputs: the runtime, where a deployment's lines go, and whom to tell of a crash — a
 * container Docker restarted (on-failure) is followed again, one that stays down is reported once
 * with its exit code and last lines. (Pool members are not watched: a dead member is replaced.)
 */
import type { LogSink } from "../core/logs.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";

export interface CrashReport {
  deploymentId: string;
  containerId: string;
  exitCode: number;
  lastLines: string[];
}

interface Watch {
  containerId: string;
  abort: AbortController;
}

export class RuntimeWatcher {
  readonly #watches = new Map<string, Watch>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly sinkFor: (deploymentId: string) => LogSink,
    private readonly onCrash: (report: CrashReport) => void,
  ) {}

  /** Start following `containerId`; lines from `sinceSeconds` (epoch) on, default now. */
  watch(deploymentId: string, containerId: string, sinceSeconds = Math.floor(Date.now() / 1000)): void {
    this.unwatch(deploymentId);
    const w: Watch = { containerId, abort: new AbortController() };
    this.#watches.set(deploymentId, w);
    void this.#follow(deploymentId, w, sinceSeconds);
  }

  unwatch(deploymentId: string): void {
    const w = this.#watches.get(deploymentId);
    if (!w) return;
    w.abort.abort();
    this.#watches.delete(deploymentId);
  }

  stopAll(): void {
    for (const id of [...this.#watches.keys()]) this.unwatch(id);
  }

  async #follow(deploymentId: string, w: Watch, sinceSeconds: number): Promise<void> {
    const sink = this.sinkFor(deploymentId);
    let since = sinceSeconds;
    while (!w.abort.signal.aborted) {
      try {
        await this.runtime.followLogs(w.containerId, { sinceSeconds: since, signal: w.abort.signal, onLine: sink });
      } catch {
        // the stream broke (engine restart, container removed): decide below
      }
      if (w.abort.signal.aborted) return;
      since = Math.floor(Date.now() / 1000);
      const info = await this.runtime.inspectContainer(w.containerId).catch(() => null);
      if (w.abort.signal.aborted) return;
      if (info?.running) continue;
      if (info && info.status === "restarting") {
        sink("system", `container exited with code ${info.exitCode}; restarting`);
        await Bun.sleep(1000);
        continue;
      }
      // Docker restarts on failure up to its retry limit; give it a moment to do so.
      await Bun.sleep(1500);
      const again = await this.runtime.inspectContainer(w.containerId).catch(() => null);
      if (w.abort.signal.aborted) return;
      if (again && (again.running || again.status === "restarting")) {
        sink("system", `container exited with code ${again.exitCode}; restarted`);
        continue;
      }
      this.#watches.delete(deploymentId);
      const lastLines = again ? await this.runtime.tailLogs(w.containerId, 20).catch(() => []) : [];
      this.onCrash({ deploymentId, containerId: w.containerId, exitCode: again?.exitCode ?? -1, lastLines });
      return;
    }
  }
}

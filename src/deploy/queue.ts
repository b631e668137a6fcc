/**
 * The job queue of deployments: FIFO, one job per deployment at a time (in the order asked), at most
 * `concurrency` builds at once. A light job (a swap without a build: env, settings, rollback) does
 * not count against the build limit, so a rollback never waits for other apps' builds.
 * Each job can be cancelled (stop/delete of its deployment) through its AbortController.
 */
import type { ReleaseMeta } from "./build-runner.ts";

export interface QueuedJob {
  deploymentId: string;
  /** A swap without a build: runs as soon as its deployment is free. */
  light?: boolean;
  run(signal: AbortSignal): Promise<void>;
  /**
   * The job as data, for a queue shared by several Kilns (src/cluster/job-queue.ts): what another
   * Kiln needs to take it over when this one dies. The in-memory queue ignores it.
   */
  spec?: JobSpec;
}

/** A job as data: a build of a build row, or a swap (never resumed elsewhere: failed cleanly). */
export type JobSpec =
  | { kind: "build"; buildId: string; meta: ReleaseMeta; commit?: string }
  | { kind: "swap"; description: string };

/** What DeploymentService needs of a queue: this in-memory one, or the shared one on Postgres. */
export interface JobQueue {
  push(job: QueuedJob): Promise<void>;
  busy(deploymentId: string): boolean;
  cancel(deploymentId: string): Promise<void>;
  drain(): Promise<void>;
}

interface Entry {
  job: QueuedJob;
  abort: AbortController;
  done: PromiseWithResolvers<void>;
}

export class BuildQueue implements JobQueue {
  readonly #waiting: Entry[] = [];
  readonly #running = new Map<string, Entry>();

  constructor(private readonly concurrency: number) {}

  /** Enqueue; resolves when the job has finished (successfully or not). */
  push(job: QueuedJob): Promise<void> {
    const entry: Entry = { job, abort: new AbortController(), done: Promise.withResolvers<void>() };
    this.#waiting.push(entry);
    this.#pump();
    return entry.done.promise;
  }

  /** Whether the deployment has a build queued or running. */
  busy(deploymentId: string): boolean {
    return this.#running.has(deploymentId) || this.#waiting.some((e) => e.job.deploymentId === deploymentId);
  }

  /** Cancel the deployment's queued and running builds; resolves when the running one has ended. */
  async cancel(deploymentId: string): Promise<void> {
    for (let i = this.#waiting.length - 1; i >= 0; i--) {
      const e = this.#waiting[i]!;
      if (e.job.deploymentId !== deploymentId) continue;
      this.#waiting.splice(i, 1);
      e.abort.abort();
      e.done.resolve();
    }
    const running = this.#running.get(deploymentId);
    if (running) {
      running.abort.abort();
      await running.done.promise;
    }
  }

  /** Cancel everything (shutdown). */
  async drain(): Promise<void> {
    const ids = new Set([...this.#running.keys(), ...this.#waiting.map((e) => e.job.deploymentId)]);
    await Promise.all([...ids].map((id) => this.cancel(id)));
  }

  #pump(): void {
    for (;;) {
      const heavy = [...this.#running.values()].filter((e) => !e.job.light).length;
      const seen = new Set<string>();
      const idx = this.#waiting.findIndex((e) => {
        const id = e.job.deploymentId;
        const first = !seen.has(id); // only a deployment's oldest waiting job may start
        seen.add(id);
        return first && !this.#running.has(id) && (e.job.light || heavy < this.concurrency);
      });
      if (idx < 0) return;
      const [entry] = this.#waiting.splice(idx, 1);
      if (!entry) return;
      this.#running.set(entry.job.deploymentId, entry);
      // async wrapper: a run() that throws before returning a promise still ends the job.
      (async () => entry.job.run(entry.abort.signal))()
        .catch((err) => console.error(`build of ${entry.job.deploymentId} crashed:`, err))
        .finally(() => {
          this.#running.delete(entry.job.deploymentId);
          entry.done.resolve();
          this.#pump();
        });
    }
  }
}

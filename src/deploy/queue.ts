/**
 * The build queue: FIFO, at most `concurrency` builds at once, one build per deployment at a time.
 * Each job can be cancelled (stop/delete of its deployment) through its AbortController.
 */
export interface QueuedJob {
  deploymentId: string;
  run(signal: AbortSignal): Promise<void>;
}

interface Entry {
  job: QueuedJob;
  abort: AbortController;
  done: PromiseWithResolvers<void>;
}

export class BuildQueue {
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
    while (this.#running.size < this.concurrency) {
      const idx = this.#waiting.findIndex((e) => !this.#running.has(e.job.deploymentId));
      if (idx < 0) return;
      const [entry] = this.#waiting.splice(idx, 1);
      if (!entry) return;
      this.#running.set(entry.job.deploymentId, entry);
      entry.job
        .run(entry.abort.signal)
        .catch((err) => console.error(`build of ${entry.job.deploymentId} crashed:`, err))
        .finally(() => {
          this.#running.delete(entry.job.deploymentId);
          entry.done.resolve();
          this.#pump();
        });
    }
  }
}

/**
 * The RuntimeWatcher's follow of a Swarm service (`swarm:<service>`, KILN_ENGINE=swarm): one read of
 * the service's output at a time, every task's lines into the deployment's log, each once.
 * Swarm interleaves its tasks' lines as they arrive (adapters/swarm/service-logs.ts), so the key of
 * a line is its task: a LogCursor per task (./log-cursor.ts), and marks stored under
 * `swarm:<service>@<task>`. A read starts from the earliest resume point of the tasks still running
 * (a running task not seen yet: from its creation), so it is the first unstored line of each; what it
 * gives again is dropped by the task's cursor. A task that has ended is read once through its own
 * log (`/tasks/{id}/logs`, which ends), from its mark to its end, so that its tail — written while
 * Kiln was down, or as it stopped between two reads — is kept without the service's read having to
 * start from it again. When the read ends (the engine restarted, the connection broke) and the
 * service still exists, it reads again from the marks; when the service is gone (looked for every few
 * seconds: dockerd 20.10 does not end a service's follow when it is removed), the follow ends.
 * An update keeps the service: Swarm's read takes in its new tasks as they start.
 * Not done here (the container follow does it): recounting lines Docker's follow may skip after a
 * log rotation; a skipped file is not reported for a task.
 */
import type { MarkedSink } from "../core/logs.ts";
import type { LogSources } from "../core/ports/store.ts";
import type { SwarmClient, TaskInfo } from "../adapters/swarm/client.ts";
import type { ServiceLogEntry } from "../adapters/swarm/service-logs.ts";
import { LogCursor } from "./log-cursor.ts";
import { LOST_WHILE_DOWN, type DelegatedFollow } from "./runtime-watch.ts";

/** Task states after which the task's container writes nothing more. */
const ENDED = new Set(["complete", "failed", "shutdown", "rejected", "orphaned", "remove"]);

/** What the follow needs of Swarm. */
export type ServiceLogSource = Pick<SwarmClient, "inspectService" | "listTasks" | "serviceLogs" | "taskLogs">;

interface Followed {
  /** Per task: how far its output was taken. */
  cursors: Map<string, LogCursor>;
  /** Ended tasks read to their end. */
  drained: Set<string>;
}

export class ServiceFollow implements DelegatedFollow {
  /** Kept across reads and watches of a service (a re-watch resumes here, before the store has the last lines). */
  readonly #followed = new Map<string, Followed>();

  constructor(
    private readonly swarm: ServiceLogSource,
    private readonly sources: LogSources,
    private readonly prefix = "swarm:",
    private readonly retryMs = 1000,
    /** How often a read looks whether its service still exists. */
    private readonly lookMs = 5000,
  ) {}

  owns(id: string): boolean {
    return id.startsWith(this.prefix);
  }

  forget(id: string): void {
    this.#followed.delete(id);
  }

  async follow(id: string, sink: MarkedSink, signal: AbortSignal): Promise<void> {
    const service = id.slice(this.prefix.length);
    let f = this.#followed.get(id);
    if (!f) this.#followed.set(id, (f = { cursors: new Map(), drained: new Set() }));
    const followed = f;
    const take = (e: ServiceLogEntry): void => {
      if (signal.aborted) return; // a later watch owns the cursors now
      let cursor = followed.cursors.get(e.task);
      if (!cursor) followed.cursors.set(e.task, (cursor = new LogCursor()));
      const verdict = cursor.take(e.stream, e.ns);
      if (verdict === "seen") return;
      if (verdict === "gap") sink("system", `${LOST_WHILE_DOWN} (the engine no longer keeps task ${e.task.slice(0, 12)}'s ${e.stream} lines before ${new Date(Number(e.ns / 1_000_000n)).toISOString()}; how many is unknown)`);
      const at = cursor.position(e.stream)!;
      sink("runtime", e.text, { container: `${id}@${e.task}`, output: e.stream, ns: at.ns, count: at.count });
    };
    while (!signal.aborted) {
      const began = Date.now();
      const tasks = await this.#tasks(service);
      if (signal.aborted) return;
      if (tasks === "gone") return;
      if (tasks === null) {
        await Bun.sleep(this.retryMs); // the engine is away: ask again
        continue;
      }
      await this.#restore(id, followed, tasks);
      if (signal.aborted) return;
      for (const t of tasks) {
        if (!ENDED.has(t.state) || followed.drained.has(t.id)) continue;
        const cursor = followed.cursors.get(t.id)!;
        cursor.beginRead();
        const since = cursor.resumeFrom();
        // A failure here is the task's container removed (nothing left to read) or the engine away (the service's read says).
        await this.swarm.taskLogs(t.id, { follow: false, ...(since === undefined ? {} : { since }), signal, onEntry: take }).catch(() => {});
        if (signal.aborted) return;
        followed.drained.add(t.id);
      }
      for (const c of followed.cursors.values()) c.beginRead();
      // dockerd 20.10 keeps a service's follow open after the service is removed: it is looked for meanwhile.
      const read = new AbortController();
      const stop = () => read.abort();
      signal.addEventListener("abort", stop, { once: true });
      const look = setInterval(() => {
        void this.swarm.inspectService(service).then((svc) => svc === null && read.abort(), () => {});
      }, this.lookMs);
      try {
        await this.swarm.serviceLogs(service, { follow: true, since: readFrom(tasks, followed), signal: read.signal, onEntry: take });
      } catch {
        // the read broke (engine restart): decide at the top
      } finally {
        clearInterval(look);
        signal.removeEventListener("abort", stop);
      }
      if (signal.aborted) return;
      if (Date.now() - began < 1000) await Bun.sleep(500); // not at once if it broke at once
    }
  }

  /** The service's tasks; "gone" when the service is; null when the engine does not answer. */
  async #tasks(service: string): Promise<TaskInfo[] | "gone" | null> {
    try {
      const svc = await this.swarm.inspectService(service);
      return svc ? await this.swarm.listTasks(svc.id) : "gone";
    } catch {
      return null;
    }
  }

  /** A cursor for each task not met yet (from its stored marks: a Kiln restarted), and none for tasks Swarm let go. */
  async #restore(id: string, f: Followed, tasks: TaskInfo[]): Promise<void> {
    const listed = new Set(tasks.map((t) => t.id));
    for (const t of f.cursors.keys()) if (!listed.has(t)) f.cursors.delete(t);
    for (const t of f.drained) if (!listed.has(t)) f.drained.delete(t);
    for (const t of tasks) {
      if (f.cursors.has(t.id)) continue;
      const stored = await this.sources.sourceMarks(`${id}@${t.id}`).catch(() => null);
      if (!f.cursors.has(t.id)) f.cursors.set(t.id, stored?.marks.length ? LogCursor.restore(stored.marks) : new LogCursor());
    }
  }
}

/**
 * Where the service's read starts (inclusive, ns): the earliest resume point of the tasks still
 * running — a task with nothing taken yet from its creation; with none running, now.
 */
export function readFrom(tasks: readonly TaskInfo[], f: Pick<Followed, "cursors">): bigint {
  let from: bigint | undefined;
  for (const t of tasks) {
    if (ENDED.has(t.state)) continue;
    const at = f.cursors.get(t.id)?.resumeFrom() ?? BigInt(Date.parse(t.createdAt)) * 1_000_000n;
    if (from === undefined || at < from) from = at;
  }
  return from ?? BigInt(Date.now()) * 1_000_000n;
}

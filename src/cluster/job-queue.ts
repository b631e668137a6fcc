/**
 * The job queue shared by the Kilns on one Postgres (KILN_DATABASE_URL): the same contract as the
 * in-memory BuildQueue (deploy/queue.ts) — one job per deployment at a time in the order asked, at
 * most `concurrency` builds at once per Kiln, light jobs outside that limit, cancel and drain —
 * with every job a row of `kiln_jobs` held under a lease.
 *
 *   const queue = await PgJobQueue.start({ db, owner, concurrency, resume, abandon, log });
 *   await queue.push({ deploymentId, spec, run });   // runs here, as soon as its turn comes
 *
 * A job runs where it was pushed (the caller may wait for it). It starts only when its row is the
 * oldest of its deployment's rows, checked and marked `running` under one transaction-scoped
 * advisory lock: no two Kilns ever run two jobs of one deployment. Its owner renews the lease of
 * all its rows every `tickMs`; a Kiln that cannot renew for `leaseMs - tickMs` aborts its own
 * running jobs (it may have been taken for dead). A row whose lease ran out (its Kiln died:
 * kill -9, lost host) is taken by one other Kiln (FOR UPDATE SKIP LOCKED) and resumed from its
 * spec (DeploymentService.resume: a build starts again from the start, a swap is reported not
 * applied); a job taken over `maxTakeovers` times is abandoned instead (failed with the reason).
 * A cancel (stop, delete) on any Kiln deletes the deployment's queued rows and flags its running
 * one; the owner sees the flag or the missing row at its next renewal and aborts.
 */
import { randomUUID } from "node:crypto";
import type { SQL } from "bun";
import { errorMessage } from "../core/errors.ts";
import type { JobQueue, JobSpec, QueuedJob } from "../deploy/queue.ts";

/** Advisory lock taken by every start and takeover: class "kiln", key 0x11. */
const JOBS_LOCK = [0x6b696c6e, 0x11] as const;
/** Epoch ms on the database's clock: every lease is measured by it, never by a Kiln's. */
const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";


export interface PgJobQueueOptions {
  db: SQL;
  /** This process's id: the owner of the rows it holds (a new one each start). */
  owner: string;
  concurrency: number;
  /** Runs a job a dead Kiln held (DeploymentService.resume). */
  resume: (deploymentId: string, spec: JobSpec, why: string, signal: AbortSignal) => Promise<void>;
  /** Ends a job taken over too often, with `why` (its build failed, its deployment told). */
  abandon: (deploymentId: string, spec: JobSpec, why: string) => Promise<void>;
  log?: (line: string) => void;
  leaseMs?: number;
  tickMs?: number;
  maxTakeovers?: number;
}

interface Entry {
  id: string;
  job: QueuedJob;
  abort: AbortController;
  done: PromiseWithResolvers<void>;
  inserted: Promise<boolean>;
  /** When its row was known committed (Infinity until then): a renewal that began before cannot have seen it. */
  committedAt: number;
  running: boolean;
}

interface JobRow {
  id: string;
  deployment_id: string;
  light: boolean;
  spec: string;
  owner: string;
  cancel: boolean;
  took_over: number;
  state: string;
}

export class PgJobQueue implements JobQueue {
  readonly #entries = new Map<string, Entry>();
  /** Deployments with a row anywhere, as of the last tick (busy() must answer at once). */
  #busyElsewhere = new Set<string>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #pumping: Promise<void> | null = null;
  #inserts: Promise<boolean> = Promise.resolve(true);
  #pumpAgain = false;
  #ticking = false;
  #lastRenewed = Date.now();
  #stopped = false;
  readonly #leaseMs: number;
  readonly #tickMs: number;

  private constructor(private readonly o: PgJobQueueOptions) {
    this.#leaseMs = o.leaseMs ?? 10_000;
    this.#tickMs = o.tickMs ?? 1000;
  }

  /** Loads who is busy and starts renewing and taking over (the table is migration 11's). */
  static async start(o: PgJobQueueOptions): Promise<PgJobQueue> {
    const q = new PgJobQueue(o);
    await q.#refreshBusy();
    q.#timer = setInterval(() => void q.#tick(), q.#tickMs);
    q.#timer.unref?.();
    return q;
  }

  push(job: QueuedJob): Promise<void> {
    const id = randomUUID();
    const entry: Entry = { id, job, abort: new AbortController(), done: Promise.withResolvers<void>(), inserted: Promise.resolve(false), committedAt: Infinity, running: false };
    // One insert after another: rows get their seqs in the order jobs were pushed here.
    entry.inserted = this.#inserts = this.#inserts.then(() => this.o.db
      .unsafe(`INSERT INTO kiln_jobs (id, deployment_id, light, spec, state, owner, lease_until) VALUES ($1, $2, $3, $4, 'queued', $5, ${NOW_MS} + $6)`, [
        id,
        job.deploymentId,
        job.light === true,
        JSON.stringify(job.spec ?? { kind: "swap", description: "a change" }),
        this.o.owner,
        this.#leaseMs,
      ])
      .then(
        () => {
          entry.committedAt = performance.now();
          return true;
        },
        async (err: unknown) => {
          // Not recorded, so not run (no other Kiln could keep it in order): ended cleanly, not left queued.
          const why = `the shared job queue could not record it: ${errorMessage(err)}`;
          this.o.log?.(`jobs: a job of ${job.deploymentId}: ${why}`);
          if (job.spec) await this.o.abandon(job.deploymentId, job.spec, why).catch(() => {});
          this.#finish(entry);
          return false;
        },
      ));
    this.#entries.set(id, entry);
    void entry.inserted.then(() => this.#pump());
    return entry.done.promise;
  }

  busy(deploymentId: string): boolean {
    if (this.#busyElsewhere.has(deploymentId)) return true;
    for (const e of this.#entries.values()) if (e.job.deploymentId === deploymentId) return true;
    return false;
  }

  /** Cancels the deployment's jobs on every Kiln; resolves when none is left running anywhere (at most a lease later). */
  async cancel(deploymentId: string): Promise<void> {
    await this.#inserts; // a job pushed just before is in the table, so it is cancelled too
    await this.o.db.begin(async (tx) => {
      await tx.unsafe("SELECT pg_advisory_xact_lock($1::int, $2::int)", [JOBS_LOCK[0], JOBS_LOCK[1]]);
      await tx.unsafe("DELETE FROM kiln_jobs WHERE deployment_id = $1 AND state = 'queued'", [deploymentId]);
      await tx.unsafe("UPDATE kiln_jobs SET cancel = true WHERE deployment_id = $1", [deploymentId]);
    });
    const mine = [...this.#entries.values()].filter((e) => e.job.deploymentId === deploymentId);
    for (const e of mine) {
      e.abort.abort();
      if (!e.running) this.#finish(e);
    }
    await Promise.all(mine.map((e) => e.done.promise));
    const until = Date.now() + this.#leaseMs + 5 * this.#tickMs;
    while (Date.now() < until) {
      const [row] = await this.o.db.unsafe<{ n: string }[]>("SELECT count(*) AS n FROM kiln_jobs WHERE deployment_id = $1", [deploymentId]);
      if (Number(row?.n ?? 0) === 0) break;
      await Bun.sleep(100);
    }
    this.#busyElsewhere.delete(deploymentId);
  }

  /**
   * Shutdown: running jobs are cancelled here (as BuildQueue's are); waiting ones are handed to the
   * other Kilns at once (their leases end now), so a graceful stop loses no queued build.
   */
  async drain(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    const waiting = [...this.#entries.values()].filter((e) => !e.running);
    await this.o.db
      .unsafe(`UPDATE kiln_jobs SET lease_until = 0 WHERE owner = $1 AND state = 'queued'`, [this.o.owner])
      .catch((err: unknown) => this.o.log?.(`jobs: could not hand waiting jobs over: ${errorMessage(err)}`));
    for (const e of waiting) this.#finish(e);
    const running = [...this.#entries.values()];
    for (const e of running) e.abort.abort();
    await Promise.all(running.map((e) => e.done.promise));
    await this.#pumping?.catch(() => {});
  }

  // ── internals ──

  #pump(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = this.#startWhatMay()
      .catch((err) => this.o.log?.(`jobs: ${errorMessage(err)}`))
      .finally(() => {
        this.#pumping = null;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      });
  }

  async #startWhatMay(): Promise<void> {
    const tried = new Set<string>();
    for (const e of [...this.#entries.values()]) {
      if (e.running || this.#stopped) continue;
      if (!(await e.inserted)) continue;
      const id = e.job.deploymentId;
      if (tried.has(id)) continue; // only a deployment's oldest waiting job may start
      tried.add(id);
      const heavy = [...this.#entries.values()].filter((x) => x.running && !x.job.light).length;
      if (!e.job.light && heavy >= this.o.concurrency) continue;
      if (await this.#take(e.id)) this.#run(e);
    }
  }

  /** Marks the row running when it is the oldest of its deployment's: under the jobs lock, so two Kilns never both pass. */
  async #take(jobId: string): Promise<boolean> {
    return this.o.db.begin(async (tx) => {
      await tx.unsafe("SELECT pg_advisory_xact_lock($1::int, $2::int)", [JOBS_LOCK[0], JOBS_LOCK[1]]);
      const taken = await tx.unsafe<{ id: string }[]>(
        `UPDATE kiln_jobs j SET state = 'running', lease_until = ${NOW_MS} + $3
         WHERE j.id = $1 AND j.owner = $2 AND j.state = 'queued' AND NOT j.cancel
           AND NOT EXISTS (SELECT 1 FROM kiln_jobs o WHERE o.deployment_id = j.deployment_id AND o.seq < j.seq)
         RETURNING j.id`,
        [jobId, this.o.owner, this.#leaseMs],
      );
      return taken.length === 1;
    });
  }

  #run(e: Entry): void {
    e.running = true;
    (async () => e.job.run(e.abort.signal))()
      .catch((err) => this.o.log?.(`jobs: a job of ${e.job.deploymentId} crashed: ${errorMessage(err)}`))
      .finally(async () => {
        await this.o.db
          .unsafe("DELETE FROM kiln_jobs WHERE id = $1 AND owner = $2", [e.id, this.o.owner])
          .catch((err: unknown) => this.o.log?.(`jobs: could not remove a finished job (its lease will run out): ${errorMessage(err)}`));
        this.#finish(e);
        this.#pump();
      });
  }

  #finish(e: Entry): void {
    this.#entries.delete(e.id);
    e.done.resolve();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      await this.#renew();
      await this.#refreshBusy();
      await this.#takeOver();
      if ([...this.#entries.values()].some((e) => !e.running)) this.#pump();
    } catch (err) {
      this.o.log?.(`jobs: ${errorMessage(err)}`);
      // Not renewed for nearly a lease: another Kiln may take these jobs over; stop them here first.
      if (Date.now() - this.#lastRenewed > this.#leaseMs - 2 * this.#tickMs) {
        for (const e of this.#entries.values()) if (e.running && !e.abort.signal.aborted) {
          this.o.log?.(`jobs: lost the database for ${Date.now() - this.#lastRenewed} ms: stopping the job of ${e.job.deploymentId}`);
          e.abort.abort();
        }
      }
    } finally {
      this.#ticking = false;
    }
  }

  /** Renews this Kiln's leases; a job whose row is gone or flagged was cancelled elsewhere (or taken over): stopped here. */
  async #renew(): Promise<void> {
    const began = performance.now();
    const held = await this.o.db.unsafe<{ id: string; cancel: boolean }[]>(
      `UPDATE kiln_jobs SET lease_until = ${NOW_MS} + $2 WHERE owner = $1 RETURNING id, cancel`,
      [this.o.owner, this.#leaseMs],
    );
    this.#lastRenewed = Date.now();
    const live = new Map(held.map((r) => [r.id, r.cancel]));
    for (const e of [...this.#entries.values()]) {
      if (e.committedAt >= began) continue; // committed after the renewal looked
      const cancelled = live.get(e.id);
      if (cancelled === false) continue;
      e.abort.abort();
      if (!e.running) this.#finish(e);
    }
  }

  async #refreshBusy(): Promise<void> {
    const rows = await this.o.db.unsafe<{ deployment_id: string }[]>("SELECT DISTINCT deployment_id FROM kiln_jobs");
    this.#busyElsewhere = new Set(rows.map((r) => r.deployment_id));
  }

  /** One row whose lease ran out (its Kiln is gone) becomes this Kiln's: resumed, dropped if cancelled, abandoned if taken over too often. */
  async #takeOver(): Promise<void> {
    const row = await this.o.db.begin(async (tx) => {
      await tx.unsafe("SELECT pg_advisory_xact_lock($1::int, $2::int)", [JOBS_LOCK[0], JOBS_LOCK[1]]);
      const [r] = await tx.unsafe<JobRow[]>(`SELECT * FROM kiln_jobs WHERE lease_until < ${NOW_MS} ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`);
      if (!r) return null;
      if (r.cancel) {
        await tx.unsafe("DELETE FROM kiln_jobs WHERE id = $1", [r.id]);
        return null;
      }
      await tx.unsafe(`UPDATE kiln_jobs SET owner = $2, state = 'queued', took_over = took_over + 1, lease_until = ${NOW_MS} + $3 WHERE id = $1`, [r.id, this.o.owner, this.#leaseMs]);
      return r;
    });
    if (!row) return;
    const spec = JSON.parse(row.spec) as JobSpec;
    const why = `the Kiln running it (${row.owner}) stopped answering; taken over by ${this.o.owner}`;
    const maxTakeovers = this.o.maxTakeovers ?? 2;
    this.o.log?.(`jobs: took over a ${spec.kind} of ${row.deployment_id} from ${row.owner}${row.took_over + 1 > maxTakeovers ? " (abandoned: taken over too often)" : ""}`);
    const job: QueuedJob =
      row.took_over + 1 > maxTakeovers
        ? { deploymentId: row.deployment_id, light: true, spec, run: () => this.o.abandon(row.deployment_id, spec, `${why}, after ${row.took_over} earlier takeovers`) }
        : {
            deploymentId: row.deployment_id,
            light: row.light,
            spec,
            // A resume that throws must not leave the build `running` with nobody on it: ended cleanly instead.
            run: (signal) => this.o.resume(row.deployment_id, spec, why, signal).catch((err: unknown) => this.o.abandon(row.deployment_id, spec, `${why}; resuming it failed: ${errorMessage(err)}`)),
          };
    const entry: Entry = { id: row.id, job, abort: new AbortController(), done: Promise.withResolvers<void>(), inserted: Promise.resolve(true), committedAt: performance.now(), running: false };
    this.#entries.set(row.id, entry);
    this.#pump();
  }
}

/**
 * Leader election: exactly one Kiln of those sharing a Postgres runs the loops that must run once
 * (reconciler passes, app convergence, pool refills and sweeps, log retention and offload, the
 * previews sweeper, following app containers' output). SQLite means one Kiln: it always leads.
 *
 *   const lead = await PgLeadership.start({ url, instance, log });   // or new AlwaysLeader()
 *   lead.isLeader();  const off = lead.onChange((leading) => …);  await lead.stop();
 *
 * The Postgres form holds a session advisory lock on a connection of its own
 * (pg_try_advisory_lock, tried every `intervalMs`). The lock lives as long as that session: a
 * dead Kiln's lock goes with its connection. Each tick checks in pg_locks that this very session
 * still holds it, so a connection the client silently re-opened (lock gone) is lost leadership,
 * and a failed check is lost leadership too. A newly won lock leads only after one more tick, so a
 * leader that lost its connection has had a tick to notice before another starts.
 */
import { SQL } from "bun";
import { errorMessage } from "../core/errors.ts";
import { redactIn } from "../adapters/store/postgres-sql.ts";

export interface Leadership {
  isLeader(): boolean;
  /** Called with true when this Kiln starts leading, false when it stops. Returns the unsubscribe. */
  onChange(cb: (leading: boolean) => void): () => void;
  stop(): Promise<void>;
}

/** One Kiln alone (SQLite): it always leads. */
export class AlwaysLeader implements Leadership {
  isLeader(): boolean {
    return true;
  }
  onChange(): () => void {
    return () => {};
  }
  async stop(): Promise<void> {}
}

/** Advisory lock keys: class "kiln" + 0x10 for the leader lock (see postgres-sql.ts LOCK). */
const LEADER_LOCK = [0x6b696c6e, 0x10] as const;

export interface PgLeadershipOptions {
  url: string;
  /** This process's id (who leads, in log lines). */
  instance: string;
  /**
   * The advisory lock (two-int form) whose holder leads. Default: the cluster's leader lock. A pools
   * node's Kilns elect theirs on nodeLock(node) (src/cluster/node-lock.ts).
   */
  lock?: readonly [number, number];
  /** What is led, in log lines (default "leader"). */
  what?: string;
  intervalMs?: number;
  log?: (line: string) => void;
}

export class PgLeadership implements Leadership {
  #db: SQL | null = null;
  #leading = false;
  /** The lock is held but the grace tick has not passed yet. */
  #won = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #ticking: Promise<void> | null = null;
  readonly #listeners = new Set<(leading: boolean) => void>();
  readonly #intervalMs: number;

  readonly #lock: readonly [number, number];

  private constructor(private readonly o: PgLeadershipOptions) {
    this.#intervalMs = o.intervalMs ?? 2000;
    this.#lock = o.lock ?? LEADER_LOCK;
  }

  /** Starts trying; resolves after the first try (leading or not). */
  static async start(o: PgLeadershipOptions): Promise<PgLeadership> {
    const l = new PgLeadership(o);
    await l.#tick();
    return l;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  onChange(cb: (leading: boolean) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Stops trying and gives the lock up (closing its session releases it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking?.catch(() => {});
    this.#set(false);
    await this.#drop();
  }

  #tick(): Promise<void> {
    this.#ticking = this.#try().finally(() => {
      this.#ticking = null;
      if (this.#stopped) return;
      this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
      this.#timer.unref?.();
    });
    return this.#ticking;
  }

  async #try(): Promise<void> {
    try {
      this.#db ??= new SQL(this.o.url, { max: 1, idleTimeout: 0, connectionTimeout: 5 });
      const held = await this.#holds(this.#db);
      if (!held && this.#won) {
        // Won before, not held now: the session was cut and the client opened another. Lost; try again next tick.
        this.#won = false;
        this.o.log?.(`${this.o.what ?? "leader"}: ${this.o.instance} lost its lock with its database session`);
        return this.#set(false);
      }
      const got = held || (await this.#acquire(this.#db));
      if (!got) {
        this.#won = false;
        return this.#set(false);
      }
      if (!this.#won) {
        this.#won = true; // leads from the next tick on
        return;
      }
      this.#set(true);
    } catch (err) {
      this.#won = false;
      this.#set(false);
      this.o.log?.(`${this.o.what ?? "leader"}: lost the database (${redactIn(errorMessage(err), this.o.url)}); trying again`);
      await this.#drop();
    }
  }

  async #holds(db: SQL): Promise<boolean> {
    const [row] = await db.unsafe<{ n: string }[]>(
      "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2",
      [this.#lock[0], this.#lock[1]],
    );
    return Number(row?.n ?? 0) > 0;
  }

  async #acquire(db: SQL): Promise<boolean> {
    const [row] = await db.unsafe<{ ok: boolean }[]>("SELECT pg_try_advisory_lock($1::int, $2::int) AS ok", [this.#lock[0], this.#lock[1]]);
    return row?.ok === true;
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    const what = this.o.what ?? "leader";
    this.o.log?.(leading ? `${what}: ${this.o.instance} leads` : `${what}: ${this.o.instance} no longer leads`);
    for (const cb of this.#listeners) {
      try {
        cb(leading);
      } catch (err) {
        this.o.log?.(`${this.o.what ?? "leader"}: ${errorMessage(err)}`);
      }
    }
  }

  async #drop(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    await db?.close({ timeout: 1 }).catch(() => {});
  }
}

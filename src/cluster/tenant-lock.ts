/**
 * One tenant's claim, release and syncs never interleave — across Kilns too. Kilns sharing a pools
 * directory (one pools node) work on the same tenant directories: two restores into one tenant's
 * `state.incoming`, or a release unbinding what a claim is binding, must take turns.
 *
 * In one process a KeyedLock orders the callers (and keeps them from holding a connection each
 * while they wait); the first in line then holds a session advisory lock on (class "kilq",
 * hashtext(key)) on a connection of its own for as long as its task runs. A Kiln that dies
 * mid-task loses its session, and the lock with it.
 */
import type { SQL } from "bun";
import { KeyedLock } from "../pools/keyed-lock.ts";

/** Runs tasks one at a time per key. */
export interface TenantLock {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

const TENANT_LOCK_CLASS = 0x6b696c71;

export class PgTenantLock implements TenantLock {
  readonly #local = new KeyedLock();

  /** `db`: a pool of its own (each running task holds one of its connections). */
  constructor(private readonly db: SQL) {}

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.#local.run(key, async () => {
      const conn = await this.db.reserve();
      let unlocked = false;
      try {
        await conn.unsafe("SELECT pg_advisory_lock($1::int, hashtext($2::text))", [TENANT_LOCK_CLASS, key]);
        try {
          return await task();
        } finally {
          const [row] = await conn
            .unsafe<{ ok: boolean }[]>("SELECT pg_advisory_unlock($1::int, hashtext($2::text)) AS ok", [TENANT_LOCK_CLASS, key])
            .catch(() => [{ ok: false }]);
          unlocked = row?.ok === true;
        }
      } finally {
        // A connection that may still hold the lock never goes back to the pool: closing its session frees it.
        await (unlocked ? conn.release() : conn.close()).catch(() => {});
      }
    });
  }
}

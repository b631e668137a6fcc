/**
 * The pieces that let several Kilns share a pools node, on a real Postgres: a tenant's work takes
 * turns across Kilns (PgTenantLock, each Kiln its own pool of connections), a Kiln that dies
 * mid-task frees the tenant, and each node elects its pools leader on a lock of its own, apart from
 * the cluster's leader and from other nodes'.
 */
import { expect, test } from "bun:test";
import { SQL } from "bun";
import { PgLeadership } from "../../src/cluster/leader.ts";
import { nodeLock } from "../../src/cluster/node-lock.ts";
import { PgTenantLock } from "../../src/cluster/tenant-lock.ts";
import { usePostgres } from "../helpers/use-postgres.ts";
import { until } from "../helpers/wait.ts";

const pg = usePostgres();

test("a tenant's tasks never overlap across three Kilns; other tenants run alongside", async () => {
  const pools = [0, 1, 2].map(() => new SQL(pg.url(), { max: 3 }));
  const locks = pools.map((db) => new PgTenantLock(db));
  const inside = new Map<string, number>();
  let overlap = 0;
  let together = 0;
  const task = (key: string) => async () => {
    const n = (inside.get(key) ?? 0) + 1;
    inside.set(key, n);
    if (n > 1) overlap++;
    if ([...inside.values()].filter((v) => v > 0).length > 1) together++;
    await Bun.sleep(5);
    inside.set(key, inside.get(key)! - 1);
    return key;
  };
  try {
    const runs = Array.from({ length: 60 }, (_, i) => locks[i % 3]!.run(`w/t${i % 2}`, task(`w/t${i % 2}`)));
    expect((await Promise.all(runs)).length).toBe(60);
    expect(overlap).toBe(0);
    expect(together).toBeGreaterThan(0); // t0 and t1 did run at the same time
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}, 60_000);

test("a Kiln that dies holding a tenant's lock frees it with its session", async () => {
  const dying = new SQL(pg.url(), { max: 1 });
  const other = new SQL(pg.url(), { max: 1 });
  const admin = new SQL(pg.url(), { max: 1 });
  try {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inTask = new Promise<void>((r) => (entered = r));
    const stuck = new PgTenantLock(dying).run("w/t", async () => {
      entered();
      await held;
    });
    await inTask;
    let got = false;
    const waiting = new PgTenantLock(other).run("w/t", async () => {
      got = true;
    });
    await Bun.sleep(300);
    expect(got).toBe(false);
    // The server ends the holder's session (as when its Kiln is killed).
    await admin.unsafe("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid AND granted", [0x6b696c71]);
    await waiting;
    expect(got).toBe(true);
    release();
    await stuck.catch(() => undefined);
  } finally {
    await Promise.all([dying, other, admin].map((p) => p.close().catch(() => {})));
  }
}, 60_000);

test("each pools node elects its own leader, apart from the cluster's", async () => {
  const cluster = await PgLeadership.start({ url: pg.url(), instance: "k1", intervalMs: 150 });
  const a1 = await PgLeadership.start({ url: pg.url(), instance: "a1", intervalMs: 150, lock: nodeLock("node-a"), what: "pools node a" });
  const a2 = await PgLeadership.start({ url: pg.url(), instance: "a2", intervalMs: 150, lock: nodeLock("node-a"), what: "pools node a" });
  const b1 = await PgLeadership.start({ url: pg.url(), instance: "b1", intervalMs: 150, lock: nodeLock("node-b"), what: "pools node b" });
  try {
    await until("the cluster, node a and node b each led", async () => cluster.isLeader() && b1.isLeader() && (a1.isLeader() || a2.isLeader()), 10_000);
    expect([a1, a2].filter((l) => l.isLeader())).toHaveLength(1);
    const leaderA = a1.isLeader() ? a1 : a2;
    const otherA = leaderA === a1 ? a2 : a1;
    await leaderA.stop();
    await until("node a's other Kiln leads", async () => otherA.isLeader(), 10_000);
    expect(cluster.isLeader() && b1.isLeader()).toBe(true);
  } finally {
    for (const l of [cluster, a1, a2, b1]) await l.stop();
  }
}, 60_000);

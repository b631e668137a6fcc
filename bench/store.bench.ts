/**
 * The store under Kiln's two hot paths, SQLite beside Postgres in the same run (a throwaway
 * cluster from test/helpers/postgres.ts, or KILN_TEST_DATABASE_URL):
 *   - claims: `takeReady` (the one-statement claim) of a pool's ready members by C concurrent
 *     callers, then the tenant row written, as Tenants.claim does — claims/s;
 *   - log writes: lines through the LogBus into the store (256-line zstd chunks, as Kiln writes
 *     them) — lines/s from the first publish to the last chunk stored.
 * Printed with the ratio Postgres / SQLite. Bounded: N members and L lines per store.
 * Then Postgres alone: NOTIFY throughput and latency from one connection pool to a LISTEN on
 * another (what carries a chunk's "stored" notice between Kilns), K notices of ~100 bytes; and the
 * build queue's lease overhead: J empty jobs over D deployments through the shared queue
 * (src/cluster/job-queue.ts: a row inserted, taken under a lease, deleted) beside the in-memory
 * BuildQueue — per job, in ms. Last, the claim path's cross-Kiln tenant lock (src/cluster/tenant-lock.ts:
 * a reserved connection, lock and unlock) beside the in-process KeyedLock: T empty tasks over 64
 * tenants, 16 at a time — per task, in ms.
 *
 *   bun bench/store.bench.ts [--members 5000] [--concurrency 16] [--lines 1000000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { PostgresStore } from "../src/adapters/store/postgres.ts";
import { SqliteStore } from "../src/adapters/store/sqlite.ts";
import type { Store } from "../src/core/ports/store.ts";
import { LogBus } from "../src/logs/bus.ts";
import { PgJobQueue } from "../src/cluster/job-queue.ts";
import { BuildQueue, type JobQueue } from "../src/deploy/queue.ts";
import { PgTenantLock, type TenantLock } from "../src/cluster/tenant-lock.ts";
import { KeyedLock } from "../src/pools/keyed-lock.ts";
import { startPostgres } from "../test/helpers/postgres.ts";
import { member } from "../test/store/contract.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MEMBERS = arg("members", 5000);
const CONCURRENCY = arg("concurrency", 16);
const LINES = arg("lines", 1_000_000);
const NOTICES = arg("notices", 20_000);
const JOBS = arg("jobs", 500);
const LOCKS = arg("locks", 2000);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function claims(store: Store): Promise<number> {
  for (let i = 0; i < MEMBERS; i++) await store.pools.insertMember(member(`m${i}`, { readyAt: i, containerId: `c${i}` }));
  let next = 0;
  let taken = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const tenant = `t${next++}`;
        const m = await store.pools.takeReady("w", "h1", tenant, Date.now(), "test-node");
        if (!m) return;
        const now = Date.now();
        await store.pools.putTenant({ tenantId: tenant, workloadId: "w", memberId: m.id, status: "claimed", lastSync: null, claimedAt: now, releasedAt: null, updatedAt: now });
        taken++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (taken !== MEMBERS) throw new Error(`claimed ${taken} of ${MEMBERS}`);
  return MEMBERS / seconds;
}

async function logWrites(store: Store): Promise<number> {
  const bus = new LogBus({ store: store.logs });
  await bus.open("bench");
  const pad = "x".repeat(80);
  const started = performance.now();
  for (let i = 0; i < LINES; i++) {
    bus.publish("bench", "runtime", `${String(i).padStart(9, "0")} GET /items/${i % 977} 200 ${pad}`);
    if (i % 5000 === 0) await Bun.sleep(0); // let the writer run, as the event loop does in Kiln
  }
  await bus.close();
  const seconds = (performance.now() - started) / 1000;
  if ((await store.logs.lastSeq("bench")) !== LINES) throw new Error("not every line was stored");
  return LINES / seconds;
}

/** NOTIFY from `sender` to a LISTEN on `receiver`: notices/s and publish→receive percentiles. */
async function notifies(url: string): Promise<{ perSecond: number; p50: number; p99: number }> {
  const receiver = new SQL(url, { max: 1 });
  const sender = new SQL(url, { max: 8 });
  const latencies: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const sub = await receiver.listen("kiln_bench", (payload) => {
    latencies.push(performance.now() - Number(payload.slice(0, payload.indexOf(" "))));
    if (latencies.length === NOTICES) done();
  });
  const pad = "x".repeat(80);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < NOTICES) {
        next++;
        await sender.notify("kiln_bench", `${performance.now()} ${pad}`);
      }
    }),
  );
  await Promise.race([all, Bun.sleep(60_000)]);
  const seconds = (performance.now() - started) / 1000;
  await sub.unlisten();
  await Promise.all([receiver.close(), sender.close()]);
  if (latencies.length !== NOTICES) throw new Error(`received ${latencies.length} of ${NOTICES} notices`);
  latencies.sort((a, b) => a - b);
  return { perSecond: NOTICES / seconds, p50: latencies[Math.floor(NOTICES * 0.5)]!, p99: latencies[Math.floor(NOTICES * 0.99)]! };
}

/** Empty jobs over 20 deployments, 4 at a time: ms a job, start to last done. */
async function jobs(queue: JobQueue): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: JOBS }, (_, i) => queue.push({ deploymentId: `dep-${i % 20}`, run: async () => {}, spec: { kind: "swap", description: "bench" } })),
  );
  return (performance.now() - started) / JOBS;
}

/** Empty tasks over 64 tenants, `parallel` at a time: ms a task, first to last. */
async function lockedTasks(lock: TenantLock, parallel: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < LOCKS) {
        const i = next++;
        await lock.run(`w/t${i % 64}`, async () => {});
      }
    }),
  );
  return (performance.now() - started) / LOCKS;
}

const dir = mkdtempSync(join(tmpdir(), "kiln-store-bench-"));
const pg = await startPostgres();
try {
  const results: Record<string, { claims: number; lines: number }> = {};
  for (const kind of ["sqlite", "postgres"] as const) {
    const open = async () => (kind === "sqlite" ? SqliteStore.open(join(dir, `${kind}-${crypto.randomUUID()}.db`)) : PostgresStore.open(await pg.createDatabase()));
    const a = await open();
    const c = await claims(a);
    await a.close();
    const b = await open();
    const l = await logWrites(b);
    await b.close();
    results[kind] = { claims: c, lines: l };
  }
  const s = results.sqlite!;
  const p = results.postgres!;
  console.log(`store bench: ${fmt(MEMBERS)} claims by ${CONCURRENCY} concurrent callers; ${fmt(LINES)} log lines through the bus`);
  console.log(`  claims/s      sqlite ${fmt(s.claims).padStart(9)}   postgres ${fmt(p.claims).padStart(9)}   postgres/sqlite ${(p.claims / s.claims).toFixed(2)}×`);
  console.log(`  log lines/s   sqlite ${fmt(s.lines).padStart(9)}   postgres ${fmt(p.lines).padStart(9)}   postgres/sqlite ${(p.lines / s.lines).toFixed(2)}×`);
  const n = await notifies(await pg.createDatabase());
  const jobsUrl = await pg.createDatabase();
  await (await PostgresStore.open(jobsUrl)).close(); // the queue's table (migration 11)
  const jobsDb = new SQL(jobsUrl, { max: 4 });
  const shared = await PgJobQueue.start({ db: jobsDb, owner: "bench", concurrency: 4, resume: async () => {}, abandon: async () => {} });
  const pgJob = await jobs(shared);
  await shared.drain();
  await jobsDb.close();
  const memJob = await jobs(new BuildQueue(4));
  console.log(`  job queue     in memory ${memJob.toFixed(3)} ms a job   shared on postgres ${pgJob.toFixed(2)} ms a job (${fmt(JOBS)} empty jobs over 20 deployments, 4 at a time): the lease costs ${(pgJob - memJob).toFixed(2)} ms a job`);
  const lockDb = new SQL(await pg.createDatabase(), { max: 8 });
  const pgOne = await lockedTasks(new PgTenantLock(lockDb), 1);
  const pgMany = await lockedTasks(new PgTenantLock(lockDb), 16);
  await lockDb.close();
  const memOne = await lockedTasks(new KeyedLock(), 1);
  const memMany = await lockedTasks(new KeyedLock(), 16);
  console.log(`  tenant lock   one at a time: in process ${memOne.toFixed(4)} ms, across Kilns on postgres ${pgOne.toFixed(3)} ms a task (the latency it adds to a claim: ${(pgOne - memOne).toFixed(3)} ms)`);
  console.log(`                16 at a time over 8 connections: in process ${memMany.toFixed(4)} ms, on postgres ${pgMany.toFixed(3)} ms a task (${fmt(LOCKS)} empty tasks over 64 tenants each)`);
  console.log(`  NOTIFY        postgres ${fmt(n.perSecond)} notices/s (${fmt(NOTICES)} by 8 senders to one LISTEN), publish→receive p50 ${n.p50.toFixed(1)} ms, p99 ${n.p99.toFixed(1)} ms`);
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The shared job queue (src/cluster/job-queue.ts) with two Kilns' queues on one real Postgres: a
 * deployment's jobs run one at a time across both, in the order asked; other deployments' jobs run
 * alongside; a cancel on one Kiln stops the job running on the other; a Kiln that loses the
 * database stops its own job, and the other takes it over only after that — never two at once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresStore } from "../../src/adapters/store/postgres.ts";
import { PgJobQueue } from "../../src/cluster/job-queue.ts";
import type { JobSpec } from "../../src/deploy/queue.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { until } from "../helpers/wait.ts";

let pg: TestPostgres;
let url: string;
const open: { drain(): Promise<void> }[] = [];
const pools: SQL[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase();
  await (await PostgresStore.open(url)).close(); // the schema, as a Kiln's start applies it
}, 60_000);

afterAll(async () => {
  for (const q of open) await q.drain().catch(() => {});
  for (const p of pools) await p.close().catch(() => {});
  await pg?.stop();
}, 60_000);

const spec: JobSpec = { kind: "swap", description: "test job" };
/** What happened, in order: "start a", "end a", … */
const events: string[] = [];

async function queue(name: string, resume: (id: string) => Promise<void> = async () => {}, opts: { leaseMs?: number; tickMs?: number } = {}) {
  const db = new SQL(url, { max: 4 });
  pools.push(db);
  const q = await PgJobQueue.start({
    db,
    owner: name,
    concurrency: 2,
    resume: (id, _spec, why) => {
      events.push(`resume ${id} by ${name}: ${why}`);
      return resume(id);
    },
    abandon: async () => {},
    leaseMs: opts.leaseMs ?? 1500,
    tickMs: opts.tickMs ?? 200,
  });
  open.push(q);
  return { q, db };
}

function job(deploymentId: string, label: string, gate: Promise<void>) {
  return {
    deploymentId,
    spec,
    run: async (signal: AbortSignal) => {
      events.push(`start ${label}`);
      await Promise.race([gate, new Promise((r) => signal.addEventListener("abort", r, { once: true }))]);
      events.push(`${signal.aborted ? "aborted" : "end"} ${label}`);
    },
  };
}

test("one deployment's jobs run one at a time across two Kilns, in order; another deployment's alongside", async () => {
  events.length = 0;
  const { q: one } = await queue("kiln-1");
  const { q: two } = await queue("kiln-2");
  const first = Promise.withResolvers<void>();
  const second = Promise.withResolvers<void>();
  const other = Promise.withResolvers<void>();
  const a = one.push(job("dep-a", "a1", first.promise));
  await until("a1 to start", async () => events.includes("start a1"), 10_000);
  const b = two.push(job("dep-a", "a2", second.promise));
  const c = two.push(job("dep-b", "b1", other.promise));
  await until("b1 to start", async () => events.includes("start b1"), 10_000);
  expect(two.busy("dep-a")).toBe(true);
  await Bun.sleep(1000); // several ticks: a2 must still wait for a1, on the other Kiln
  expect(events).not.toContain("start a2");
  first.resolve();
  await a;
  await until("a2 to start", async () => events.includes("start a2"), 10_000);
  second.resolve();
  other.resolve();
  await Promise.all([b, c]);
  expect(events.indexOf("end a1")).toBeLessThan(events.indexOf("start a2"));
  await until("one to see dep-a free", async () => !one.busy("dep-a"), 5_000);
  await one.drain(); // gone, so that they take nothing over in the tests below
  await two.drain();
}, 60_000);

test("a cancel on one Kiln stops the job running on the other, and resolves once it has ended", async () => {
  events.length = 0;
  const { q: one } = await queue("kiln-3");
  const { q: two } = await queue("kiln-4");
  const never = new Promise<void>(() => {});
  const running = one.push(job("dep-c", "c1", never));
  const waiting = one.push(job("dep-c", "c2", never));
  await until("c1 to start", async () => events.includes("start c1"), 10_000);
  await two.cancel("dep-c");
  expect(events).toContain("aborted c1");
  expect(events).not.toContain("start c2");
  await running;
  await waiting;
  await until("dep-c free on both Kilns (busy() is refreshed each tick)", async () => !one.busy("dep-c") && !two.busy("dep-c"), 5_000);
  await one.drain();
  await two.drain();
}, 60_000);

test("a Kiln that loses the database stops its job; the other takes it over after that, never both at once", async () => {
  events.length = 0;
  const { q: dying, db } = await queue("kiln-5");
  const resumed = Promise.withResolvers<void>();
  const { q: heir } = await queue("kiln-6", async () => {
    events.push("heir runs");
    resumed.resolve();
  });
  void dying.push(job("dep-d", "d1", new Promise<void>(() => {})));
  await until("d1 to start", async () => events.includes("start d1"), 10_000);
  await db.close(); // its renewals now fail: it must stop d1 before its lease runs out
  await resumed.promise;
  expect(events.indexOf("aborted d1")).toBeGreaterThanOrEqual(0);
  expect(events.indexOf("aborted d1")).toBeLessThan(events.indexOf("heir runs"));
  expect(events.find((e) => e.startsWith("resume dep-d by kiln-6"))).toContain("the Kiln running it (kiln-5) stopped answering");
  await until("the heir to finish", async () => !heir.busy("dep-d"), 10_000);
}, 60_000);

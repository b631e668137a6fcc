/**
 * Leader election over a Postgres advisory lock (src/cluster/leader.ts), three contenders on one
 * real database: exactly one leads; when the leader stops, or its connection is cut by the server,
 * another leads; sampled every 20 ms throughout, never two at once. The leader's loops
 * (Cluster.whileLeading: the reconciler and the other once-only loops) run on one Kiln at a time.
 */
import { expect, test } from "bun:test";
import { SQL } from "bun";
import { PgLeadership } from "../../src/cluster/leader.ts";
import { Cluster } from "../../src/cluster/cluster.ts";
import { usePostgres } from "../helpers/use-postgres.ts";
import { until } from "../helpers/wait.ts";

const pg = usePostgres({ schema: true }); // the schema, as a Kiln's start applies it

test("one leads at a time; a stopped or cut-off leader is followed by another", async () => {
  const logs: string[] = [];
  const all = await Promise.all(["x", "y", "z"].map((instance) => PgLeadership.start({ url: pg.url(), instance, intervalMs: 200, log: (l) => logs.push(l) })));
  let most = 0;
  const sampler = setInterval(() => (most = Math.max(most, all.filter((l) => l.isLeader()).length)), 20);
  const admin = new SQL(pg.url(), { max: 1 });
  try {
    const first = await until("a leader", async () => all.find((l) => l.isLeader()), 10_000);
    await Bun.sleep(1000);
    expect(all.filter((l) => l.isLeader())).toEqual([first]);

    await first.stop();
    const second = await until("another leader after a stop", async () => all.find((l) => l !== first && l.isLeader()), 10_000);

    // The server ends the leader's session (a lost connection): its lock goes with it.
    await admin.unsafe("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1802071150::oid AND objid = 16::oid");
    await until("the cut-off leader to know", async () => !second.isLeader(), 10_000);
    const third = await until("a leader after the cut", async () => all.find((l) => l.isLeader()), 10_000);
    expect(third).not.toBe(first);
    expect(logs.some((l) => l.includes("no longer leads"))).toBe(true);
  } finally {
    clearInterval(sampler);
    for (const l of all) await l.stop();
    await admin.close();
  }
  expect(most).toBe(1);
}, 60_000);

test("the leader's loops (whileLeading) run on one Kiln at a time, and move when it stops", async () => {
  const kilns = await Promise.all(["k1", "k2", "k3"].map((nodeId) => Cluster.open({ url: pg.url(), nodeId, say: () => {}, leaderIntervalMs: 200 })));
  let running = 0;
  let most = 0;
  const ran: string[] = [];
  kilns.forEach((k, i) =>
    k.whileLeading({
      start: async () => {
        running++;
        most = Math.max(most, running);
        ran.push(`start ${i}`);
        await Bun.sleep(50); // a start that takes a while (the reconciler's boot pass)
      },
      stop: async () => {
        await Bun.sleep(50);
        running--;
        ran.push(`stop ${i}`);
      },
    }),
  );
  try {
    await until("one Kiln's loops to run", async () => running === 1, 10_000);
    const first = Number(ran[0]!.split(" ")[1]);
    await kilns[first]!.stop();
    await until("another Kiln's loops to run", async () => ran.some((e) => e.startsWith("start ") && e !== `start ${first}`), 10_000);
    expect(ran.indexOf(`stop ${first}`)).toBeLessThan(ran.findIndex((e) => e.startsWith("start ") && e !== `start ${first}`));
    expect(kilns.every((k) => k.id === kilns[0]!.id)).toBe(true); // one cluster id, made by the first
  } finally {
    for (const k of kilns) {
      await k.stop();
      await k.close();
    }
  }
  expect(most).toBe(1);
  expect(running).toBe(0);
}, 60_000);

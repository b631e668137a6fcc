/**
 * A container started by a Kiln that does not lead is followed by the leader at once, not at its
 * next reconciler pass: the non-leader's watch is relayed to the leader over NOTIFY kiln_follow, on
 * a real Postgres. What is followed is a stand-in (a `swarm:` id with a delegated follow): the
 * relay, not the engine, is under test here. Junk on the channel is ignored.
 */
import { expect, test } from "bun:test";
import { SQL } from "bun";
import type { Leadership } from "../../src/cluster/leader.ts";
import { standInWatcher } from "../helpers/stand-in-watcher.ts";
import { usePostgres } from "../helpers/use-postgres.ts";
import { until } from "../helpers/wait.ts";

const pg = usePostgres();

const fixed = (leading: boolean): Leadership => ({ isLeader: () => leading, onChange: () => () => {}, stop: async () => {} });

test("a watch on a Kiln that does not lead is followed by the leader within moments; junk on the channel is ignored", async () => {
  const dbA = new SQL(pg.url(), { max: 2 });
  const dbB = new SQL(pg.url(), { max: 2 });
  const onLeader = new Set<string>();
  const onOther = new Set<string>();
  const leader = standInWatcher(onLeader);
  const other = standInWatcher(onOther);
  leader.led(fixed(true));
  other.led(fixed(false));
  const errors: unknown[] = [];
  await leader.relay(dbA, (e) => errors.push(e));
  await other.relay(dbB, (e) => errors.push(e));
  try {
    await dbB.notify("kiln_follow", "not json");
    await dbB.notify("kiln_follow", JSON.stringify({ d: "", c: "swarm:x" }));
    other.watch("dep1", "swarm:svc1");
    // No reconciler runs here: only the relay can start the leader's follow.
    await until("the leader follows what the other Kiln started", async () => onLeader.has("swarm:svc1"), 5_000);
    expect(leader.watching("dep1", "swarm:svc1")).toBe(true);
    expect(onOther.size).toBe(0); // the other Kiln follows nothing itself
    expect([...onLeader]).toEqual(["swarm:svc1"]); // the junk notices started nothing
    expect(errors).toEqual([]);
  } finally {
    leader.stopAll();
    await leader.stopRelay();
    await other.stopRelay();
    await dbA.close();
    await dbB.close();
  }
}, 60_000);

/**
 * MemberHealth's event handling against the real store (SQLite in memory), with fakes for the
 * engine's events, the members' containers and the tenant replacement (those are tested for real in
 * test/recovery/pools.test.ts).
 */
import { expect, test } from "bun:test";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import type { MemberStatus, PoolMember } from "../core/pool.ts";
import type { ContainerEvent, EngineEvent, EngineEvents } from "../core/ports/engine-events.ts";
import { deathCause, MemberHealth } from "./member-health.ts";

const INSTANCE_ID = "inst1";

class FakeEvents implements EngineEvents {
  listeners = new Set<(e: EngineEvent) => void>();
  subscribe(l: (e: EngineEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: EngineEvent) {
    for (const l of this.listeners) l(e);
  }
}

function member(id: string, status: MemberStatus, tenantId: string | null = null): PoolMember {
  return { id, workloadId: "echo", specHash: "h1", node: "test-node", containerId: `c-${id}`, status, tenantId, endpoint: "127.0.0.1:1", createdAt: 1, readyAt: 1, claimedAt: null, lastActiveAt: null };
}

function died(id: string, action: ContainerEvent["action"] = "die", extra: Partial<ContainerEvent> = {}): ContainerEvent {
  const labels = { "kiln.managed": "true", "kiln.instance": INSTANCE_ID, "kiln.kind": "pool-member", "kiln.workload": "echo", "kiln.member": id };
  return { kind: "container", action, containerId: `c-${id}`, labels, exitCode: 137, at: 1, ...extra };
}

async function setup(members: PoolMember[]) {
  const store = SqliteStore.open(":memory:");
  for (const m of members) await store.pools.insertMember(m);
  const calls = { destroyed: [] as string[], dead: new Set<string>(), kicks: 0, replaced: [] as [string, string][], converges: 0 };
  let finishConverge: () => void = () => {};
  const health = new MemberHealth({
    store,
    members: {
      destroy: async (id) => {
        calls.destroyed.push(id);
        await store.pools.deleteMember(id);
      },
      markDead: (id) => calls.dead.add(id),
      forgetDead: (id) => calls.dead.delete(id),
    },
    refiller: { kick: () => calls.kicks++ },
    replaceDead: async (m, cause) => (calls.replaced.push([m.id, cause]), m),
    converge: () => {
      calls.converges++;
      return new Promise<void>((r) => (finishConverge = r));
    },
    instanceId: INSTANCE_ID,
    log: () => {},
  });
  const events = new FakeEvents();
  health.watch(events);
  return { store, health, events, calls, finishConverge: () => finishConverge() };
}

test("a ready member that dies is out of ready before the handler's first await returns, then removed and the pool kicked", async () => {
  const { store, health, events, calls } = await setup([member("m1", "ready")]);
  health.begin();
  events.emit(died("m1"));
  // No await since the event: a claim now finds nothing ready.
  expect(await store.pools.takeReady("echo", "h1", "t1", 2, "test-node")).toBeNull();
  await health.settled();
  expect(calls.destroyed).toEqual(["m1"]);
  expect(calls.kicks).toBe(1);
  expect(await store.pools.getMember("m1")).toBeNull();
  expect(health.handled).toBe(1);
});

test("a claimed member that dies is replaced for its tenant, with the cause", async () => {
  const { health, events, calls } = await setup([member("m1", "claimed", "acme")]);
  health.begin();
  events.emit(died("m1", "die", { exitCode: 137 }));
  await health.settled();
  expect(calls.replaced).toEqual([["m1", "container c-m1 died (exit 137)"]]);
  expect(calls.destroyed).toEqual([]); // replaceDead removes it, under the tenant's lock
});

test("a ready member taken by a claim just before its death event is replaced for the tenant", async () => {
  const { store, health, events, calls } = await setup([member("m1", "ready")]);
  health.begin();
  expect((await store.pools.takeReady("echo", "h1", "acme", 2, "test-node"))?.id).toBe("m1");
  events.emit(died("m1"));
  await health.settled();
  expect(calls.replaced.map(([id]) => id)).toEqual(["m1"]);
});

test("a warming member that dies is marked dead for its create, and nothing else is done", async () => {
  const { store, health, events, calls } = await setup([member("m1", "warming")]);
  health.begin();
  events.emit(died("m1", "oom"));
  expect(calls.dead.has("m1")).toBe(true);
  await health.settled();
  expect(calls.dead.has("m1")).toBe(true);
  expect(calls.destroyed).toEqual([]);
  expect((await store.pools.getMember("m1"))?.status).toBe("warming");
});

test("events of other instances, of apps, and that are no death are ignored", async () => {
  const { store, health, events, calls } = await setup([member("m1", "ready")]);
  health.begin();
  const e = died("m1");
  events.emit({ ...e, labels: { ...e.labels, "kiln.instance": "other" } });
  events.emit({ ...e, labels: { ...e.labels, "kiln.kind": "app" } });
  events.emit(died("m1", "start"));
  events.emit(died("m1", "health", { health: "healthy" }));
  events.emit(died("m1", "kill"));
  await health.settled();
  expect(calls.dead.size).toBe(0);
  expect((await store.pools.getMember("m1"))?.status).toBe("ready");
});

test("an event about a container the member no longer has is ignored", async () => {
  const { store, health, events, calls } = await setup([member("m1", "claimed", "acme")]);
  health.begin();
  events.emit({ ...died("m1"), containerId: "c-old" });
  await health.settled();
  expect(calls.replaced).toEqual([]);
  expect((await store.pools.getMember("m1"))?.status).toBe("claimed");
});

test("events before begin() are held, then handled in order", async () => {
  const { store, health, events, calls } = await setup([member("m1", "ready")]);
  events.emit(died("m1"));
  await health.settled();
  expect((await store.pools.getMember("m1"))?.status).toBe("ready");
  health.begin();
  await health.settled();
  expect(calls.destroyed).toEqual(["m1"]);
});

test("the engine lost: away until back's full pass is done; lost again during it: still away", async () => {
  const { health, events, calls, finishConverge } = await setup([]);
  health.begin();
  expect(health.engineAway()).toBe(false);
  events.emit({ kind: "engine", state: "lost", at: 1 });
  expect(health.engineAway()).toBe(true);
  events.emit({ kind: "engine", state: "back", at: 2 });
  expect(calls.converges).toBe(1);
  expect(health.engineAway()).toBe(true); // the pass is still running
  finishConverge();
  await health.settled();
  expect(health.engineAway()).toBe(false);
  expect(calls.kicks).toBe(1);

  events.emit({ kind: "engine", state: "lost", at: 3 });
  events.emit({ kind: "engine", state: "back", at: 4 });
  events.emit({ kind: "engine", state: "lost", at: 5 });
  finishConverge();
  await health.settled();
  expect(health.engineAway()).toBe(true);
});

test("stop() unsubscribes", async () => {
  const { health, events } = await setup([]);
  health.stop();
  expect(events.listeners.size).toBe(0);
});

test("deathCause: what each event means", () => {
  expect(deathCause(died("m", "die", { exitCode: 0 }))).toBe("died (exit 0)");
  expect(deathCause(died("m", "die", { exitCode: undefined }))).toBe("died (exit unknown)");
  expect(deathCause(died("m", "oom"))).toBe("ran out of memory");
  expect(deathCause(died("m", "destroy"))).toBe("was removed");
  expect(deathCause(died("m", "health", { health: "unhealthy" }))).toBe("turned unhealthy");
  expect(deathCause(died("m", "health", { health: "starting" }))).toBeNull();
  for (const a of ["create", "start", "kill", "stop", "restart"] as const) expect(deathCause(died("m", a))).toBeNull();
});

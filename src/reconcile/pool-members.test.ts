/** Pool members against the engine: the pass after an engine restart (what it removes, replaces, restores) and adoption at boot. */
import { expect, test } from "bun:test";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import type { MemberStatus, PoolMember, TenantClaim } from "../core/pool.ts";
import type { ContainerInfo, ContainerRuntime } from "../core/ports/runtime.ts";
import { adoptPoolMembers, convergePoolMembers, deadMembers, type AdoptDeps } from "./pool-members.ts";

const m = (id: string, status: MemberStatus, containerId: string | null, tenantId: string | null = null): PoolMember => ({
  id,
  workloadId: "echo",
  specHash: "h",
  node: "test-node",
  containerId,
  status,
  tenantId,
  endpoint: null,
  createdAt: 1,
  readyAt: null,
  claimedAt: null,
  lastActiveAt: null,
});

test("deadMembers: ready ones to remove, claimed and releasing ones to replace; running, warming and container-less ones left", () => {
  const members = [
    m("r-live", "ready", "c1"),
    m("r-dead", "ready", "c2"),
    m("w-dead", "warming", "c3"),
    m("w-new", "warming", null),
    m("c-live", "claimed", "c4", "a"),
    m("c-dead", "claimed", "c5", "b"),
    m("cold-new", "claimed", null, "c"),
    m("rel-dead", "releasing", "c6", "d"),
    m("dr-dead", "draining", "c7"),
  ];
  const dead = deadMembers(members, new Set(["c1", "c4"]));
  expect(dead.ready.map((x) => x.id)).toEqual(["r-dead"]);
  expect(dead.held.map((x) => x.id)).toEqual(["c-dead", "rel-dead"]);
});

test("convergePoolMembers: dead ready removed first, dead claimed replaced, a claim without a member restored, orphans removed", async () => {
  const store = SqliteStore.open(":memory:");
  for (const x of [m("r-live", "ready", "c1"), m("r-dead", "ready", "c2"), m("c-live", "claimed", "c4", "a"), m("c-dead", "claimed", "c5", "b"), m("w", "warming", null)]) {
    await store.pools.insertMember(x);
  }
  const tenant = (tenantId: string, memberId: string | null): TenantClaim => ({ tenantId, workloadId: "echo", memberId, status: "claimed", lastSync: null, claimedAt: 1, releasedAt: null, updatedAt: 1 });
  await store.pools.putTenant(tenant("a", "c-live"));
  await store.pools.putTenant(tenant("b", "c-dead"));
  await store.pools.putTenant(tenant("lost", null)); // its replacement failed while the engine was away
  const info = (id: string, running: boolean, member: string): ContainerInfo => ({ id, running, labels: { "kiln.member": member } }) as unknown as ContainerInfo;
  // c9: a container whose member row is gone (its removal failed while the engine was away)
  let containers = [info("c1", true, "r-live"), info("c2", false, "r-dead"), info("c4", true, "c-live"), info("c5", false, "c-dead"), info("c9", false, "gone")];
  const order: string[] = [];
  const remove = (id: string) => (containers = containers.filter((c) => c.id !== id));
  const runtime = {
    listContainers: async () => containers,
    inspectContainer: async (id: string) => containers.find((c) => c.id === id) ?? null,
    removeContainer: async (id: string) => (order.push(`rm ${id}`), remove(id)),
  } as unknown as ContainerRuntime;
  const destroy = async (id: string) => {
    order.push(`destroy ${id}`);
    const row = await store.pools.getMember(id);
    if (row?.containerId) remove(row.containerId);
    await store.pools.deleteMember(id);
  };
  // As Tenants does: the dead member out, a new one in, the tenant's row pointing at it.
  const giveNew = async (tenantId: string, id: string) => {
    const fresh = m(id, "claimed", `c-${id}`, tenantId);
    await store.pools.insertMember(fresh);
    containers.push(info(`c-${id}`, true, id));
    await store.pools.putTenant(tenant(tenantId, id));
    return fresh;
  };
  const result = await convergePoolMembers({
    store,
    runtime,
    instanceId: "i",
    members: { destroy },
    replaceDead: async (dead, cause, stillDead) => {
      order.push(`replace ${dead.id} (${cause}) still dead: ${await stillDead()}`);
      await store.pools.updateMember(dead.id, { status: "destroyed" });
      const fresh = await giveNew(dead.tenantId!, "b-new");
      await destroy(dead.id);
      return fresh;
    },
    restoreMissing: async (tenantId, _w, cause) => (order.push(`restore ${tenantId} (${cause})`), giveNew(tenantId, "lost-new")),
    log: () => {},
  });
  expect(order).toEqual([
    "destroy r-dead",
    "replace c-dead (container c5 no longer ran after the engine came back) still dead: true",
    "destroy c-dead",
    "restore lost (its container was lost while the engine was away)",
    "destroy gone", // no row: its slot mount, if any
    "rm c9",
  ]);
  expect(result).toEqual({ removed: 2, replaced: 2 });
  expect((await store.pools.listMembers()).map((x) => x.id).sort()).toEqual(["b-new", "c-live", "lost-new", "r-live", "w"]);
  expect(containers.map((c) => c.id).sort()).toEqual(["c-b-new", "c-lost-new", "c1", "c4"]);
});

test("adoptPoolMembers: a claim whose member is gone (Kiln died mid-replacement) is released, and the member's row removed", async () => {
  const store = SqliteStore.open(":memory:");
  await store.pools.insertMember(m("old", "claimed", "c1", "acme"));
  await store.pools.putTenant({ tenantId: "acme", workloadId: "echo", memberId: "old", status: "claimed", lastSync: null, claimedAt: 1, releasedAt: null, updatedAt: 1 });
  await store.pools.updateMember("old", { status: "destroyed" }); // replaceDead's first step, then Kiln died
  const destroyed: string[] = [];
  const result = await adoptPoolMembers({
    store,
    runtime: { listContainers: async () => [] } as unknown as ContainerRuntime,
    slots: { attached: async () => [], detach: async () => {} } as unknown as AdoptDeps["slots"],
    members: { destroy: async (id: string) => (destroyed.push(id), store.pools.deleteMember(id)) } as unknown as AdoptDeps["members"],
    registry: {} as AdoptDeps["registry"],
    instanceId: "i",
    dataDir: "/nonexistent",
    log: () => {},
  });
  expect(result.illegalMoves).toBe(0);
  expect(destroyed).toEqual(["old"]);
  expect(await store.pools.getMember("old")).toBeNull();
  expect(await store.pools.getTenant("acme", "echo")).toMatchObject({ status: "released", memberId: null });
});

test("adoptPoolMembers, a Kiln alone whose pools directory moved: the old node's members go, their tenants released, saying where the state is; with several Kilns they are left to their node", async () => {
  const run = async (shared: boolean) => {
    const store = SqliteStore.open(":memory:");
    const mine = { ...m("here", "ready", "c1"), node: "node-new" };
    const theirs = { ...m("there", "claimed", "c2", "acme"), node: "node-old" };
    await store.pools.insertMember(mine);
    await store.pools.insertMember(theirs);
    await store.pools.putTenant({ tenantId: "acme", workloadId: "echo", memberId: "there", status: "claimed", lastSync: null, claimedAt: 1, releasedAt: null, updatedAt: 1 });
    const info = (id: string, member: string, node: string): ContainerInfo => ({ id, running: true, labels: { "kiln.member": member, "kiln.node": node } }) as unknown as ContainerInfo;
    let containers = [info("c1", "here", "node-new"), info("c2", "there", "node-old")];
    const said: string[] = [];
    await adoptPoolMembers({
      store,
      runtime: { listContainers: async () => containers, removeContainer: async (id: string) => void (containers = containers.filter((c) => c.id !== id)) } as unknown as ContainerRuntime,
      slots: { attached: async () => [], detach: async () => {} } as unknown as AdoptDeps["slots"],
      members: {
        destroy: async (id: string) => {
          const row = await store.pools.getMember(id);
          containers = containers.filter((c) => c.id !== row?.containerId);
          await store.pools.deleteMember(id);
        },
      } as unknown as AdoptDeps["members"],
      registry: {} as AdoptDeps["registry"],
      instanceId: "i",
      node: "node-new",
      shared,
      dataDir: "/nonexistent",
      log: (l) => said.push(l),
    });
    return { store, containers, said };
  };
  const alone = await run(false);
  expect((await alone.store.pools.listMembers()).map((x) => x.id)).toEqual(["here"]);
  expect(alone.containers.map((c) => c.id)).toEqual(["c1"]);
  expect(await alone.store.pools.getTenant("acme", "echo")).toMatchObject({ status: "released", memberId: null });
  expect(alone.said.join("\n")).toContain("tenant acme released (its state stays in the old pools directory)");

  const several = await run(true);
  expect((await several.store.pools.listMembers()).map((x) => x.id).sort()).toEqual(["here", "there"]);
  expect(several.containers.map((c) => c.id)).toEqual(["c1", "c2"]);
  expect(await several.store.pools.getTenant("acme", "echo")).toMatchObject({ status: "claimed", memberId: "there" });
});

/** The pool repo: atomic takes, one member per tenant and workload, tenants upserted. */
import { expect, test } from "bun:test";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { PoolMember } from "../../src/core/pool.ts";

const member = (id: string, over: Partial<PoolMember> = {}): PoolMember => ({
  id,
  workloadId: "w",
  specHash: "h1",
  node: "test-node",
  containerId: `c-${id}`,
  status: "ready",
  tenantId: null,
  endpoint: "127.0.0.1:1",
  createdAt: 1,
  readyAt: Number(id.replace(/\D/g, "")) || 1,
  claimedAt: null,
  lastActiveAt: null,
  ...over,
});

test("takeReady hands each ready member to exactly one caller, oldest first, matching the spec hash", async () => {
  const store = SqliteStore.open(":memory:");
  await store.pools.insertMember(member("m2"));
  await store.pools.insertMember(member("m1"));
  await store.pools.insertMember(member("m3", { specHash: "old" }));
  await store.pools.insertMember(member("m4", { status: "warming" }));
  const got = await Promise.all(["a", "b", "c"].map((t) => store.pools.takeReady("w", "h1", t, 100, "test-node")));
  expect(got.map((m) => m?.id ?? null)).toEqual(["m1", "m2", null]);
  expect(got[0]).toMatchObject({ status: "claimed", tenantId: "a", claimedAt: 100 });
  expect((await store.pools.memberOfTenant("w", "b"))?.id).toBe("m2");
  await store.close();
});

test("a tenant can't hold two members of one workload (unique index)", async () => {
  const store = SqliteStore.open(":memory:");
  await store.pools.insertMember(member("m1", { status: "claimed", tenantId: "a" }));
  await store.pools.insertMember(member("m2"));
  await expect(store.pools.updateMember("m2", { status: "claimed", tenantId: "a" })).rejects.toThrow(/already holds/);
  // once released (destroyed), the tenant may claim again
  await store.pools.updateMember("m1", { status: "destroyed" });
  expect((await store.pools.updateMember("m2", { status: "claimed", tenantId: "a" })).tenantId).toBe("a");
  expect((await store.pools.listMembers("w")).map((m) => m.id)).toEqual(["m2"]);
  await store.close();
});

test("tenants are upserted per (tenant, workload)", async () => {
  const store = SqliteStore.open(":memory:");
  const t = { tenantId: "a", workloadId: "w", memberId: "m1", status: "claimed" as const, lastSync: null, claimedAt: 1, releasedAt: null, updatedAt: 1 };
  await store.pools.putTenant(t);
  await store.pools.putTenant({ ...t, status: "releasing", updatedAt: 2 });
  await store.pools.putTenant({ ...t, status: "release_failed", lastSync: { direction: "upload", ok: false, at: 2, error: "boom" }, updatedAt: 2 });
  await store.pools.putTenant({ ...t, workloadId: "v" });
  expect(await store.pools.getTenant("a", "w")).toMatchObject({ status: "release_failed", lastSync: { ok: false, error: "boom" } });
  expect((await store.pools.listTenants("a")).map((x) => x.workloadId)).toEqual(["v", "w"]);
  await store.close();
});

test("drainIfReady only drains a member that is still ready", async () => {
  const store = SqliteStore.open(":memory:");
  await store.pools.insertMember(member("m1"));
  await store.pools.insertMember(member("m2"));
  await store.pools.takeReady("w", "h1", "a", 5, "test-node"); // m1 claimed
  expect(await store.pools.drainIfReady("m1")).toBe(false);
  expect(await store.pools.drainIfReady("m2")).toBe(true);
  expect((await store.pools.getMember("m1"))?.status).toBe("claimed");
  expect((await store.pools.getMember("m2"))?.status).toBe("draining");
  await store.close();
});

test("endpointOfTenant answers only once the tenant's claim has completed, and until it is released", async () => {
  const store = SqliteStore.open(":memory:");
  await store.pools.insertMember(member("m1", { endpoint: "127.0.0.1:40001" }));
  await store.pools.takeReady("w", "h1", "a", 5, "test-node");
  expect(await store.pools.endpointOfTenant("w", "a")).toBeNull(); // member taken, mounts not yet in place
  const t = { tenantId: "a", workloadId: "w", memberId: "m1", status: "claimed" as const, lastSync: null, claimedAt: 6, releasedAt: null, updatedAt: 6 };
  await store.pools.putTenant(t);
  expect(await store.pools.endpointOfTenant("w", "a")).toBe("127.0.0.1:40001");
  expect(await store.pools.endpointOfTenant("w", "b")).toBeNull();
  expect(await store.pools.endpointOfTenant("v", "a")).toBeNull();
  for (const status of ["releasing", "release_failed"] as const) {
    await store.pools.putTenant({ ...t, status });
    expect(await store.pools.endpointOfTenant("w", "a")).toBe("127.0.0.1:40001");
  }
  await store.pools.putTenant({ ...t, status: "released", memberId: null });
  expect(await store.pools.endpointOfTenant("w", "a")).toBeNull();
  await store.close();
});

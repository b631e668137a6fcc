/**
 * While the container engine is away, Tenants.claim hands out no member (a ready one may be dead
 * without Kiln knowing yet): 503 saying to retry; a tenant that holds one still gets `existing`; a
 * claim whose container died while it was away (no member now) can still be released.
 * The real store (SQLite in memory); nothing else is reached on these paths.
 */
import { expect, test } from "bun:test";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import { KilnError } from "../core/errors.ts";
import type { PoolMember } from "../core/pool.ts";
import { parseWorkload } from "./workloads/load.ts";
import { Tenants, type TenantDeps } from "./tenants.ts";
import { WorkloadRegistry } from "./workload-registry.ts";

const parsed = parseWorkload("id: echo\nimage: busybox\nports: [8080]\npool:\n  min_size: 1\n  max_size: 2\n", "workloads/echo.yaml", {});
if (!parsed.ok) throw new Error("the test workload does not parse");
const w = parsed.spec;

async function setup() {
  const store = SqliteStore.open(":memory:");
  const registry = new WorkloadRegistry(store);
  registry.set([w], []);
  const ready: PoolMember = { id: "m1", workloadId: "echo", specHash: w.hash, node: "test-node", containerId: "c1", status: "ready", tenantId: null, endpoint: "127.0.0.1:5000", createdAt: 1, readyAt: 1, claimedAt: null, lastActiveAt: null };
  await store.pools.insertMember(ready);
  const tenants = new Tenants({ store, registry, urls: { publicHost: "localhost", publicPort: 8080 }, dataDir: "/nonexistent", engineAway: () => true, logFor: async () => () => {} } as unknown as TenantDeps);
  return { store, tenants };
}

test("a claim while the engine is away: 503 saying the engine is restarting, and the ready member is not taken", async () => {
  const { store, tenants } = await setup();
  const err = await tenants.claim("acme", "echo").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(KilnError);
  expect((err as KilnError).kind).toBe("unavailable");
  expect((err as KilnError).message).toContain("the container engine is restarting");
  expect((err as KilnError).hint).toContain("retry");
  expect((await store.pools.getMember("m1"))?.status).toBe("ready");
});

test("a tenant that holds a member still gets it (existing) while the engine is away", async () => {
  const { store, tenants } = await setup();
  await store.pools.takeReady("echo", w.hash, "acme", 2, "test-node");
  const r = await tenants.claim("acme", "echo");
  expect(r.source).toBe("existing");
  expect(r.containerId).toBe("c1");
});

test("a claim left without a member (its container died while the engine was away) can be released", async () => {
  const { store, tenants } = await setup();
  await store.pools.putTenant({ tenantId: "acme", workloadId: "echo", memberId: null, status: "claimed", lastSync: null, claimedAt: 1, releasedAt: null, updatedAt: 1 });
  expect(await tenants.release("acme")).toEqual({ released: ["echo"] });
  expect((await store.pools.getTenant("acme", "echo"))?.status).toBe("released");
  const again = await tenants.release("acme", { workload: "echo" }).catch((e: unknown) => e);
  expect((again as KilnError).message).toContain("holds no echo container");
});

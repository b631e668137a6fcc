/**
 * 200 concurrent claims over 20 tenants: no tenant ever holds two containers of the workload,
 * no container is ever held by two tenants.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { until } from "../helpers/wait.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

let kiln: TestKiln;

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  kiln = await startTestKiln({ KILN_POOL_CONCURRENCY: "4" });
  // the whole pool is warm before the storm: the test is about who gets what, not warm-up speed
  writeWorkload(kiln.config.pools.workloadsDir, "busy", workloadYaml("busy", { min: 20, max: 20 }));
  await until("20 ready members", async () => ((await (await kiln.api("/pools")).json()) as any).pools[0]?.counts.ready >= 20, 150_000);
}, 180_000);

afterAll(async () => {
  await kiln?.stop();
}, 60_000);

test("200 concurrent claims over 20 tenants", async () => {
  const tenants = Array.from({ length: 20 }, (_, i) => `t${i}`);
  const claims = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      kiln
        .api(`/tenants/${tenants[i % 20]}/claim`, { method: "POST", body: JSON.stringify({ workload: "busy" }), headers: { "content-type": "application/json" } })
        .then(async (r) => ({ status: r.status, body: (await r.json()) as any, tenant: tenants[i % 20]! })),
    ),
  );
  const ok = claims.filter((c) => c.status === 200);
  expect(claims.filter((c) => c.status !== 200 && c.status !== 503)).toEqual([]);
  const containersOf = new Map<string, Set<string>>();
  const tenantsOf = new Map<string, Set<string>>();
  for (const c of ok) {
    containersOf.set(c.tenant, (containersOf.get(c.tenant) ?? new Set()).add(c.body.containerId));
    tenantsOf.set(c.body.containerId, (tenantsOf.get(c.body.containerId) ?? new Set()).add(c.tenant));
  }
  for (const [tenant, set] of containersOf) expect({ tenant, containers: set.size }).toEqual({ tenant, containers: 1 });
  for (const [container, set] of tenantsOf) expect({ container, tenants: set.size }).toEqual({ container, tenants: 1 });
  expect(containersOf.size).toBe(20); // max_size 20: every tenant got one
  // the engine agrees: exactly 20 claimed members, each a distinct running container
  const pools = (await (await kiln.api("/pools")).json()) as any;
  const claimed = pools.pools[0].members.filter((m: any) => m.status === "claimed");
  expect(claimed.length).toBe(20);
  expect(new Set(claimed.map((m: any) => m.tenantId)).size).toBe(20);
  const sources = ok.map((c) => c.body.source);
  expect(sources.filter((s) => s === "existing").length).toBe(ok.length - 20);
}, 180_000);

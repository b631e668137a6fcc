/**
 * Claims across three Kilns (three processes) on one Postgres: 200 concurrent claims, each of 50
 * tenants claimed four times through different Kilns at once, against one warm pool. The Kilns
 * share one pools directory (one host, one pools node), so one of them keeps the pool for all. Every tenant ends with exactly one container, every container serves at most one tenant,
 * and every answer for a tenant names that tenant's container: 0 double assignments.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL, type Subprocess } from "bun";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kilnProcess, type KilnProcess } from "../helpers/kiln-process.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { until } from "../helpers/wait.ts";
import { clusterIdOf, removeClusterLeftovers, removePoolsDir, stopKilns } from "./leftovers.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS, workloadYaml, writeWorkload } from "../helpers/workloads.ts";

const TENANTS = 50;
const CLAIMS_EACH = 4;
const WORKLOAD = "cl-claims";

let pg: TestPostgres;
let url: string;
const kilns: KilnProcess[] = [];
const procs: Subprocess[] = [];
const poolsDir = mkdtempSync(join(tmpdir(), "kiln-claims-pools-"));

// A tiny server (busybox httpd): fifty of them are cheap. No state or secrets volumes.
const yaml = workloadYaml(WORKLOAD, {
  stateless: true,
  command: ["busybox", "httpd", "-f", "-p", "8080", "-h", "/etc"],
  healthPath: "/hostname",
  min: TENANTS,
  max: TENANTS + 10,
});

beforeAll(async () => {
  await ensureWorkloadImage();
  pg = await startPostgres();
  url = await pg.createDatabase();
  const secretKey = randomBytes(32).toString("base64");
  for (const name of ["a", "b", "c"]) {
    const k = kilnProcess(`kiln-claims-${name}`);
    Object.assign(k.env, { KILN_DATABASE_URL: url, KILN_SECRET_KEY: secretKey, KILN_POOL_CONCURRENCY: "8", KILN_POOLS_DIR: poolsDir });
    writeWorkload(k.env.KILN_WORKLOADS_DIR!, WORKLOAD, yaml);
    kilns.push(k);
    procs.push(await k.serve({ timeoutMs: 30_000 }));
  }
}, WORKLOAD_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  // Members outlive Kiln: release every tenant first (through any Kiln), then stop the Kilns.
  await Promise.all(Array.from({ length: TENANTS }, (_, t) => kilns[t % 3]?.api(`/tenants/t${t}/release`, { method: "POST" }).catch(() => {})));
  const clusterId = url ? await clusterIdOf(url) : null;
  await stopKilns(procs, kilns);
  removeClusterLeftovers(clusterId);
  removePoolsDir(poolsDir);
  await pg?.stop();
}, 180_000);

test("200 concurrent claims spread over three Kilns: 0 double assignments", async () => {
  const db = new SQL(url, { max: 1 });
  try {
    await until("the node's warm pool", async () => {
      const [row] = await db.unsafe<{ n: string }[]>("SELECT count(*) AS n FROM pool_members WHERE workload_id = $1 AND status = 'ready'", [WORKLOAD]);
      return Number(row?.n ?? 0) >= TENANTS;
    }, 240_000);

    // Claim c of tenant t goes to Kiln (t + c) % 3: each tenant is claimed through every Kiln at once.
    const claims = Array.from({ length: TENANTS * CLAIMS_EACH }, (_, i) => ({ tenant: `t${i % TENANTS}`, kiln: kilns[(i % TENANTS + Math.floor(i / TENANTS)) % 3]! }));
    const answers = await Promise.all(
      claims.map(async ({ tenant, kiln }) => {
        const res = await kiln.api(`/tenants/${tenant}/claim`, { body: { workload: WORKLOAD } });
        const body = (await res.json()) as { containerId?: string; source?: string; message?: string };
        return { tenant, status: res.status, containerId: body.containerId ?? "", source: body.source, message: body.message };
      }),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Each tenant got one new container (from the pool, or cold when the pool ran short); its other three claims, on other Kilns at once, the same one.
    expect(answers.filter((a) => a.source !== "existing").length).toBe(TENANTS);
    expect(answers.filter((a) => a.source === "existing").length).toBe(TENANTS * (CLAIMS_EACH - 1));

    // Every answer for a tenant names one container, and no container is named for two tenants.
    const byTenant = new Map<string, Set<string>>();
    for (const a of answers) byTenant.set(a.tenant, (byTenant.get(a.tenant) ?? new Set()).add(a.containerId));
    const doubleTenant = [...byTenant].filter(([, ids]) => ids.size !== 1);
    expect(doubleTenant).toEqual([]);
    const owners = new Map<string, string>();
    const doubleContainer: string[] = [];
    for (const [tenant, ids] of byTenant) {
      const id = [...ids][0]!;
      if (owners.has(id) && owners.get(id) !== tenant) doubleContainer.push(id);
      owners.set(id, tenant);
    }
    expect(doubleContainer).toEqual([]);
    expect(owners.size).toBe(TENANTS);

    // And the database agrees: one claimed member per tenant, each a different container.
    const held = await db.unsafe<{ tenant_id: string; container_id: string }[]>("SELECT tenant_id, container_id FROM pool_members WHERE workload_id = $1 AND status = 'claimed'", [WORKLOAD]);
    expect(held.length).toBe(TENANTS);
    expect(new Set(held.map((h) => h.tenant_id)).size).toBe(TENANTS);
    expect(new Set(held.map((h) => h.container_id)).size).toBe(TENANTS);
    for (const h of held) expect(byTenant.get(h.tenant_id)).toEqual(new Set([h.container_id]));
  } finally {
    await db.close();
  }
}, 420_000);

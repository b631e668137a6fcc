/**
 * Pools with state and secrets across Kilns on one Postgres. Kilns A and B share a pools directory
 * (one pools node: the documented way to run several Kilns on one host); Kiln C keeps its own (a
 * second node). A claim through any Kiln binds the tenant's own state into the very container it
 * answers with — proven by that container writing through its /state and the file appearing in the
 * tenant's directory on its node — and never takes another node's member. A release through the
 * other Kiln of the same node works; one through a Kiln of another node is forwarded to a live Kiln
 * of the member's node, and refused (409, changing nothing) when none runs.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL, type Subprocess } from "bun";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kilnProcess, type KilnProcess } from "../helpers/kiln-process.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { until } from "../helpers/wait.ts";
import { clusterIdOf, removeClusterLeftovers, removePoolsDir, stopKilns } from "./leftovers.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS, workloadYaml, writeWorkload } from "../helpers/workloads.ts";

const WORKLOAD = "cl-state";
let pg: TestPostgres;
let url: string;
let db: SQL;
/** The pools directory A and B share. */
const shared = mkdtempSync(join(tmpdir(), "kiln-shared-pools-"));
const kilns: KilnProcess[] = [];
const procs: Subprocess[] = [];
const A = () => kilns[0]!;
const B = () => kilns[1]!;
const C = () => kilns[2]!;
const nodeOf = (poolsDir: string) => readFileSync(join(poolsDir, "node-id"), "utf8").trim();
const stateFile = (poolsDir: string, tenant: string, file: string) => join(poolsDir, "tenants", WORKLOAD, tenant, "state", file);

interface Claim {
  containerId: string;
  endpoint: { host: string; port: number } | null;
  source: string;
}

async function claim(k: KilnProcess, tenant: string): Promise<Claim> {
  const res = await k.api(`/tenants/${tenant}/claim`, { body: { workload: WORKLOAD } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`claim ${tenant}: ${res.status} ${JSON.stringify(body)}`);
  return body as Claim;
}

const memberRow = async (tenant: string) =>
  (await db.unsafe<{ node: string; container_id: string; status: string }[]>("SELECT node, container_id, status FROM pool_members WHERE workload_id = $1 AND tenant_id = $2", [WORKLOAD, tenant]))[0] ?? null;

beforeAll(async () => {
  await ensureWorkloadImage();
  pg = await startPostgres();
  url = await pg.createDatabase();
  db = new SQL(url, { max: 1 });
  const secretKey = randomBytes(32).toString("base64");
  for (const name of ["a", "b", "c"]) {
    const k = kilnProcess(`kiln-stateful-${name}`);
    Object.assign(k.env, { KILN_DATABASE_URL: url, KILN_SECRET_KEY: secretKey });
    if (name !== "c") k.env.KILN_POOLS_DIR = shared;
    writeWorkload(k.env.KILN_WORKLOADS_DIR!, WORKLOAD, workloadYaml(WORKLOAD, { min: 2, max: 4 }));
    kilns.push(k);
    procs.push(await k.serve({ timeoutMs: 30_000 }));
  }
}, WORKLOAD_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  for (const [k, t] of [[A(), "t1"], [B(), "t2"], [C(), "t3"]] as const) await k?.api(`/tenants/${t}/release`, { method: "POST" }).catch(() => {});
  const clusterId = url ? await clusterIdOf(url) : null;
  await db?.close();
  await stopKilns(procs, kilns);
  removeClusterLeftovers(clusterId);
  removePoolsDir(shared);
  await pg?.stop();
}, 180_000);

test("claims through any Kiln bind the tenant's state into its own container, on its own node", async () => {
  const sharedNode = nodeOf(shared);
  const ownNode = nodeOf(C().dataDir);
  expect(sharedNode).not.toBe(ownNode);
  // Each node keeps its own warm pool (min_size 2): one Kiln of the shared node keeps it, C keeps its own.
  await until("both nodes' warm pools", async () => {
    const rows = await db.unsafe<{ node: string; n: string }[]>("SELECT node, count(*) AS n FROM pool_members WHERE workload_id = $1 AND status = 'ready' GROUP BY node", [WORKLOAD]);
    const by = new Map(rows.map((r) => [r.node, Number(r.n)]));
    return (by.get(sharedNode) ?? 0) >= 2 && (by.get(ownNode) ?? 0) >= 2;
  }, 240_000);

  const [c1, c2, c3] = await Promise.all([claim(A(), "t1"), claim(B(), "t2"), claim(C(), "t3")]);
  expect([c1.source, c2.source, c3.source]).toEqual(["pool", "pool", "pool"]);
  expect((await memberRow("t1"))?.node).toBe(sharedNode);
  expect((await memberRow("t2"))?.node).toBe(sharedNode);
  expect((await memberRow("t3"))?.node).toBe(ownNode);

  // Each container writes through its /state: the file lands in that tenant's directory on its node, and nowhere else.
  for (const [c, dir, tenant] of [[c1, shared, "t1"], [c2, shared, "t2"], [c3, C().dataDir, "t3"]] as const) {
    const res = await fetch(`http://127.0.0.1:${c.endpoint!.port}/write`);
    expect(res.status).toBe(200);
    await until(`${tenant}'s write in its own state dir`, async () => existsSync(stateFile(dir, tenant, "hits")), 10_000);
  }
  expect(existsSync(stateFile(C().dataDir, "t1", "hits")) || existsSync(stateFile(C().dataDir, "t2", "hits"))).toBe(false);
  expect(existsSync(stateFile(shared, "t3", "hits"))).toBe(false);
  // And what a container shows is its own tenant's state only.
  const seen = await (await fetch(`http://127.0.0.1:${c2.endpoint!.port}/`)).text();
  expect(seen).toContain(`hits=${readFileSync(stateFile(shared, "t2", "hits"), "utf8").trim()}`);

  // The same tenant claimed again through the other Kiln of its node: the same container.
  expect((await claim(B(), "t1")).containerId).toBe(c1.containerId);
}, 420_000);

test("a release goes through any Kiln: the member's node serves it, another node's Kiln forwards it there", async () => {
  // t1 was claimed through A; B shares A's pools directory and releases it itself.
  const released = await B().api("/tenants/t1/release", { body: {} });
  expect(released.status).toBe(200);
  expect(await memberRow("t1")).toBeNull();
  expect(existsSync(stateFile(shared, "t1", "hits"))).toBe(true); // the state stays
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(join(shared, "tenants", WORKLOAD, "t1"));

  // A request already forwarded is answered where it lands: A cannot release t3 (on C's node) itself.
  const once = await A().api("/tenants/t3/release", { method: "POST", body: "{}", headers: { "x-kiln-forwarded": "1" } });
  expect(once.status).toBe(409);
  const refusal = ((await once.json()) as { error: { message: string; hint?: string } }).error;
  expect(refusal.message).toContain(`pools node ${nodeOf(C().dataDir)}`);
  expect(refusal.hint).toContain("KILN_POOLS_DIR");
  expect((await memberRow("t3"))?.status).toBe("claimed");

  // Without the token, nothing is forwarded: A refuses it itself.
  const anonymous = await fetch(`http://127.0.0.1:${A().env.KILN_API_PORT}/api/v1/tenants/t3/release`, { method: "POST" });
  expect(anonymous.status).toBe(401);
  expect((await memberRow("t3"))?.status).toBe("claimed");

  // Without the mark, A forwards t3's release to C (the caller's token goes along), which releases it.
  const forwarded = await A().api("/tenants/t3/release", { body: {} });
  expect(forwarded.status).toBe(200);
  expect(await forwarded.json()).toEqual({ released: [WORKLOAD] });
  expect(await memberRow("t3")).toBeNull();
  expect(existsSync(stateFile(C().dataDir, "t3", "hits"))).toBe(true);
}, 120_000);

test("with no Kiln of the member's node running, the release is refused (409, saying so) and changes nothing", async () => {
  await claim(C(), "t4");
  procs[2]!.kill("SIGTERM");
  await procs[2]!.exited;
  const res = await A().api("/tenants/t4/release", { body: {} });
  expect(res.status).toBe(409);
  const body = ((await res.json()) as { error: { message: string } }).error;
  expect(body.message).toContain(`pools node ${nodeOf(C().dataDir)}`);
  expect(body.message).toContain("no Kiln of that node answers now");
  expect((await memberRow("t4"))?.status).toBe("claimed");
}, 120_000);

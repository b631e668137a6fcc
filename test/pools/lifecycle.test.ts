/**
 * Pool lifecycle against the real engine and Caddy: bad workload files, idle releases and idle
 * surplus members, workloads added, changed and removed while Kiln runs, the tenant listing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { ECHO_COMMAND, workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";
import { until } from "../helpers/wait.ts";

let kiln: TestKiln;
let workloadsDir: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const init: RequestInit = { method };
  if (body !== undefined) Object.assign(init, { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const res = await kiln.api(path, init);
  return { status: res.status, json: await res.json() };
}
const post = (path: string, body: unknown) => call("POST", path, body);
const get = (path: string) => call("GET", path);


interface PoolSnapshot {
  workload: string;
  minSize: number;
  maxSize: number;
  counts: Record<"warming" | "ready" | "claimed" | "releasing" | "draining", number>;
  members: { id: string; status: string; tenantId: string | null; containerId: string | null; current: boolean }[];
}

async function pool(workload: string): Promise<PoolSnapshot | undefined> {
  return (await get("/pools")).json.pools.find((p: PoolSnapshot) => p.workload === workload);
}

async function inspect(containerId: string): Promise<any | null> {
  const res = await fetch(`http://docker/v1.41/containers/${containerId}/json`, { unix: "/var/run/docker.sock" } as RequestInit);
  return res.status === 404 ? null : res.json();
}

/** The engine's own view: containers of one workload made by this Kiln. */
async function containersOf(workload: string): Promise<unknown[]> {
  return kiln.runtime.listContainers({ "kiln.instance": kiln.instanceId, "kiln.workload": workload });
}

/** The echo workload, but its server starts listening only after `seconds`. */
function slowStart(yaml: string, seconds: number): string {
  const command = [ECHO_COMMAND[0], ECHO_COMMAND[1], `setTimeout(()=>{${ECHO_COMMAND[2]}},${seconds * 1000})`];
  return yaml.replace(/^command: .*$/m, `command: ${JSON.stringify(command)}`);
}

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  // Our own workloads folder, filled before Kiln starts (the first scan loads it) and watched after.
  workloadsDir = mkdtempSync(join(tmpdir(), "kiln-lifecycle-workloads-"));
  writeWorkload(workloadsDir, "idle", workloadYaml("idle", { min: 2, max: 3, idle: "2s" }));
  writeWorkload(workloadsDir, "bad-max", workloadYaml("bad-max", { min: 3, max: 1 }));
  writeWorkload(workloadsDir, "bad-field", workloadYaml("bad-field", { extra: "imgae: node:20" }));
  writeWorkload(workloadsDir, "bad-duration", workloadYaml("bad-duration", { idle: "10 minutes" }));
  kiln = await startTestKiln({ KILN_WORKLOADS_DIR: workloadsDir });
  await until("2 ready idle members", async () => (await pool("idle"))?.counts.ready === 2);
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  if (workloadsDir) rmSync(workloadsDir, { recursive: true, force: true });
}, 60_000);

test("bad workload files are listed with file and field; the others keep working; claims on them 404", async () => {
  const w = await get("/workloads");
  expect(w.status).toBe(200);
  expect(w.json.workloads.map((x: any) => x.id)).toEqual(["idle"]);
  const errorOf = (file: string) => w.json.errors.filter((e: any) => e.file.endsWith(file)).map((e: any) => e.message).join("\n");
  expect(errorOf("bad-max.yaml")).toContain("pool.max_size");
  expect(errorOf("bad-max.yaml")).toContain("bad-max.yaml");
  expect(errorOf("bad-field.yaml")).toMatch(/imgae: unknown field: did you mean "image"\?/);
  expect(errorOf("bad-duration.yaml")).toContain("pool.idle_timeout");
  expect(errorOf("bad-duration.yaml")).toContain("must be a duration");

  const refused = await post("/tenants/t1/claim", { workload: "bad-max" });
  expect(refused.status).toBe(404);
  expect(refused.json.error.message).toContain("bad-max");
  expect(refused.json.error.hint).toContain("known workloads: idle");
  // no tenant was made by the refused claim
  expect((await get("/tenants/t1/status")).status).toBe(404);
});

test("an idle tenant is released after idle_timeout; its container is removed", async () => {
  const c = await post("/tenants/sleepy/claim", { workload: "idle" });
  expect(c.status).toBe(200);
  expect(c.json.source).toBe("pool");
  expect((await get("/tenants/sleepy/status")).json.tenants[0].status).toBe("claimed"); // not released at once: the timeout is 2 s
  const status = await until("the idle release", async () => {
    const s = (await get("/tenants/sleepy/status")).json.tenants[0];
    return s.status === "released" && s;
  }, 20_000);
  expect(status).toMatchObject({ containerId: null, url: null });
  expect(await inspect(c.json.containerId)).toBeNull();
  expect((await pool("idle"))!.members.some((m) => m.tenantId === "sleepy")).toBe(false);
}, 30_000);

test("ready members above min_size that sat idle are removed", async () => {
  await until("2 ready idle members", async () => (await pool("idle"))?.counts.ready === 2);
  // min_size 2 → 1, and a new spec whose members take ~6 s to become ready. Stale members are
  // drained only once a replacement is ready, so while it warms only the idle sweep may remove
  // the surplus (2 ready, 1 wanted) — and it does, after idle_timeout (2 s, long passed).
  writeWorkload(workloadsDir, "idle", slowStart(workloadYaml("idle", { min: 1, max: 3, idle: "2s" }), 6));
  const swept = await until("the surplus ready member to be swept", async () => {
    const p = await pool("idle");
    return p?.minSize === 1 && p.counts.ready === 1 && p.counts.warming === 1 && p;
  }, 20_000);
  expect(swept.members.find((m) => m.status === "ready")!.current).toBe(false); // the replacement is still warming
  const settled = await until("1 ready member of the new spec", async () => {
    const p = await pool("idle");
    return p?.members.length === 1 && p.counts.ready === 1 && p.members[0]!.current && p;
  }, 45_000);
  expect((await containersOf("idle")).length).toBe(1);
  // At min_size the sweep leaves it alone. The clock: a tenant of another workload claimed now, with
  // the same 2 s idle_timeout. The sweep that releases it also looks at "idle"'s member, by then
  // ready for longer than its idle_timeout.
  writeWorkload(workloadsDir, "clock", workloadYaml("clock", { min: 0, max: 1, idle: "2s" }));
  await until("the clock workload to load", async () => (await pool("clock")) !== undefined, 30_000);
  expect((await post("/tenants/tick/claim", { workload: "clock" })).status).toBe(200);
  await until("an idle sweep to release the clock's tenant", async () => (await get("/tenants/tick/status")).json.tenants[0]?.status === "released", 45_000);
  expect((await pool("idle"))!.members.map((m) => m.id)).toEqual(settled.members.map((m) => m.id));
  rmSync(join(workloadsDir, "clock.yaml"));
}, 120_000);

test("a workload added, changed and removed while Kiln runs: warm, roll to the new spec, drain", async () => {
  writeWorkload(workloadsDir, "live", workloadYaml("live", { min: 1, max: 3 }));
  await until("the new workload's pool to warm", async () => (await pool("live"))?.counts.ready === 1, 30_000);

  const keeper = await post("/tenants/keeper/claim", { workload: "live" });
  expect(keeper.status).toBe(200);
  const port = keeper.json.endpoint.port;
  await until("the refill", async () => (await pool("live"))?.counts.ready === 1);
  const oldReady = (await pool("live"))!.members.find((m) => m.status === "ready")!;

  // A changed spec: a new member warms first; the old ready one goes only after it is ready.
  writeWorkload(workloadsDir, "live", workloadYaml("live", { min: 1, max: 3, extra: "environment:\n  FLAVOR: v2" }));
  const seen: PoolSnapshot[] = [];
  const rolled = await until("the pool to roll to the new spec", async () => {
    const p = (await pool("live"))!;
    seen.push(p);
    const ready = p.members.filter((m) => m.status === "ready");
    return ready.length === 1 && ready[0]!.current && !p.members.some((m) => m.id === oldReady.id) && p;
  });
  expect(seen.some((p) => p.members.some((m) => m.id === oldReady.id && !m.current))).toBe(true);
  for (const p of seen) expect(p.counts.ready).toBeGreaterThanOrEqual(1); // never without a ready member
  const fresh = rolled.members.find((m) => m.status === "ready")!;
  expect((await inspect(fresh.containerId!)).Config.Env).toContain("FLAVOR=v2");
  expect(await inspect(oldReady.containerId!)).toBeNull();

  // The claimed member of the old spec keeps serving its tenant, directly and through Caddy.
  const held = rolled.members.find((m) => m.tenantId === "keeper")!;
  expect(held).toMatchObject({ status: "claimed", current: false, containerId: keeper.json.containerId });
  expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: "keeper.live.localhost" } })).status).toBe(200);
  expect((await inspect(keeper.json.containerId)).Config.Env).not.toContain("FLAVOR=v2");
  const again = await post("/tenants/keeper/claim", { workload: "live" });
  expect(again.json).toMatchObject({ source: "existing", containerId: keeper.json.containerId });

  const r = await post("/tenants/keeper/release", { workload: "live" });
  expect(r.status).toBe(200);
  expect(await inspect(keeper.json.containerId)).toBeNull();

  // A removed file: its pool is gone and its ready members drained.
  rmSync(join(workloadsDir, "live.yaml"));
  await until("the removed workload's members to drain", async () => !(await pool("live")) && (await containersOf("live")).length === 0, 30_000);
  const after = await post("/tenants/keeper/claim", { workload: "live" });
  expect(after.status).toBe(404);
}, 60_000);

test("a full pool (min_size = max_size) still rolls to a changed spec", async () => {
  writeWorkload(workloadsDir, "full", workloadYaml("full", { min: 1, max: 1 }));
  await until("the full pool to warm", async () => (await pool("full"))?.counts.ready === 1, 30_000);
  // No room for a member of the new spec: the old ready one must make room, or claims 503 forever.
  writeWorkload(workloadsDir, "full", workloadYaml("full", { min: 1, max: 1, extra: "environment:\n  FLAVOR: v2" }));
  await until("a ready member of the new spec", async () => {
    const p = await pool("full");
    const m = p?.members.length === 1 && p.counts.ready === 1 && p.members[0]!.current ? p.members[0]! : null;
    return m && ((await inspect(m.containerId!))?.Config.Env as string[]).includes("FLAVOR=v2");
  }, 30_000);
  const c = await post("/tenants/filler/claim", { workload: "full" });
  expect(c.status).toBe(200);
  expect((await inspect(c.json.containerId)).Config.Env).toContain("FLAVOR=v2");
  expect((await post("/tenants/filler/release", {})).status).toBe(200);
  rmSync(join(workloadsDir, "full.yaml"));
}, 60_000);

test("GET /tenants lists every tenant with its status; an unknown tenant's status is 404", async () => {
  const c = await post("/tenants/lister/claim", { workload: "idle" });
  expect(c.status).toBe(200);
  const list = (await get("/tenants")).json.tenants as any[];
  const byKey = Object.fromEntries(list.map((t) => [`${t.tenantId}/${t.workload}`, t.status]));
  expect(byKey).toMatchObject({ "sleepy/idle": "released", "keeper/live": "released", "lister/idle": "claimed" });
  expect(list.find((t) => t.tenantId === "lister")).toMatchObject({ containerId: c.json.containerId, url: `http://lister.idle.localhost:${kiln.publicPort}/` });
  expect(await post("/tenants/lister/release", {})).toMatchObject({ status: 200, json: { released: ["idle"] } });

  const unknown = await get("/tenants/nobody/status");
  expect(unknown.status).toBe(404);
  expect(unknown.json.error.message).toContain("no tenant nobody");
}, 30_000);

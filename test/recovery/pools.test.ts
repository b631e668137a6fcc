/**
 * Dead pool members, against the real engine and Caddy: a ready member whose container is killed is
 * never handed out and the pool refills; a claimed member whose container is killed or removed is
 * replaced for its tenant, at the same URL, with its state — and the tenant's log says so.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { ensureWorkloadImage, workloadYaml, writeWorkload, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

const W = "heal";
let kiln: TestKiln;

/** The Engine API, as an operator (or the OOM killer) would reach it — not through Kiln. */
function engine(method: string, path: string): Promise<Response> {
  return fetch(`http://localhost/v1.41${path}`, { method, unix: "/var/run/docker.sock" } as RequestInit);
}

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await kiln.api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  return { status: res.status, json: await res.json() };
}

async function pool(): Promise<{ counts: Record<string, number>; members: { id: string; status: string; containerId: string | null; tenantId: string | null }[] }> {
  const pools = (await (await kiln.api("/pools")).json()) as any;
  return pools.pools.find((p: any) => p.workload === W);
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const readyCount = async (n: number) => until(`${n} ready ${W} members`, async () => ((await pool()).counts.ready ?? 0) >= n);
const running = async (containerId: string) => ((await (await engine("GET", `/containers/${containerId}/json`)).json()) as any).State?.Running === true;
const gone = async (containerId: string) => (await engine("GET", `/containers/${containerId}/json`)).status === 404;
const viaUrl = (tenant: string) => fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: `${tenant}.${W}.localhost` } });

async function status(tenant: string): Promise<any> {
  const s = (await (await kiln.api(`/tenants/${tenant}/status`)).json()) as any;
  return s.tenants.find((t: any) => t.workload === W);
}

/** The tenant's log lines until one matches. */
function logLine(tenant: string, match: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${kiln.apiUrl.replace("http", "ws")}/api/v1/tenants/${tenant}/logs?workload=${W}&token=${kiln.token}`);
    const timer = setTimeout(() => (ws.close(), reject(new Error(`no log line of ${tenant} matched ${match}`))), timeoutMs);
    ws.onmessage = (ev) => {
      const text = (JSON.parse(String(ev.data)) as { text: string }).text;
      if (match.test(text)) {
        clearTimeout(timer);
        ws.close();
        resolve(text);
      }
    };
  });
}

/** A claimed tenant with a file in its state (written on the host) and one written by its container. */
async function claimWithState(tenant: string): Promise<{ containerId: string; body: string }> {
  const c = await post(`/tenants/${tenant}/claim`, { workload: W });
  expect(c.status).toBe(200);
  writeFileSync(join(kiln.config.dataDir, "tenants", W, tenant, "state", "note"), `note of ${tenant}\n`);
  expect((await fetch(`http://127.0.0.1:${c.json.endpoint.port}/write`)).status).toBe(200); // writes /state/hits
  const body = await (await viaUrl(tenant)).text();
  expect(body).toContain(`note=note of ${tenant}`);
  expect(body).toContain("hits=");
  return { containerId: c.json.containerId, body };
}

/** After its container died: the tenant answers at the same URL from a new, running container with the same state. */
async function expectReplaced(tenant: string, dead: string, before: string): Promise<void> {
  const after = await until(`${tenant} on a new container`, async () => {
    const s = await status(tenant);
    return s?.containerId && s.containerId !== dead ? s : null;
  });
  expect(after.status).toBe("claimed");
  expect(after.lastReplaced?.cause).toContain(dead.slice(0, 12));
  expect(await running(after.containerId)).toBe(true);
  const body = await until(`${tenant}'s URL answering`, async () => {
    const res = await viaUrl(tenant);
    return res.status === 200 ? res.text() : null;
  });
  expect(body).toBe(before); // the same files: the note written on the host, the hits its old container wrote
  const again = await post(`/tenants/${tenant}/claim`, { workload: W });
  expect(again.json.source).toBe("existing");
  expect(again.json.containerId).toBe(after.containerId);
  await until(`${dead} removed`, () => gone(dead));
}

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  kiln = await startTestKiln();
  writeWorkload(kiln.config.pools.workloadsDir, W, workloadYaml(W, { min: 2, max: 6 }));
  await readyCount(2);
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
}, 60_000);

test("a ready member whose container is killed is never handed out, and the pool refills to min_size", async () => {
  const victim = (await pool()).members.find((m) => m.status === "ready")!;
  expect((await engine("POST", `/containers/${victim.containerId}/kill`)).status).toBe(204);
  // Kiln saw the death once it removed the container (the member left `ready` before that).
  await until("the killed member's container removed", () => gone(victim.containerId!));
  // Its container goes before its row: meanwhile the row may still be listed, but never as ready.
  expect((await pool()).members.find((m) => m.id === victim.id)?.status).not.toBe("ready");
  await until("the killed member's row removed", async () => !(await pool()).members.some((m) => m.id === victim.id));
  for (const tenant of ["r1", "r2"]) {
    const c = await post(`/tenants/${tenant}/claim`, { workload: W });
    expect(c.status).toBe(200);
    expect(c.json.containerId).not.toBe(victim.containerId);
    expect(await running(c.json.containerId)).toBe(true);
    expect((await viaUrl(tenant)).status).toBe(200);
  }
  await readyCount(2);
  for (const tenant of ["r1", "r2"]) expect((await post(`/tenants/${tenant}/release`, { workload: W })).status).toBe(200);
}, 120_000);

test("a claim racing a ready member's death: the tenant ends up answering at its URL from a running container", async () => {
  await readyCount(2);
  // The member the next claim takes (the longest ready), killed as the claim is made: the claim
  // usually gets it before its death event arrives, and the event then replaces it for the tenant.
  const ready = (await pool()).members.filter((m: any) => m.status === "ready") as any[];
  const victim = ready.sort((a, b) => String(a.readyAt).localeCompare(String(b.readyAt)) || a.id.localeCompare(b.id))[0];
  const [, c] = await Promise.all([engine("POST", `/containers/${victim.containerId}/kill`), post("/tenants/race/claim", { workload: W })]);
  expect(c.status).toBe(200);
  const s = await until("race on a running container", async () => {
    const t = await status("race");
    return t?.containerId && t.containerId !== victim.containerId && (await running(t.containerId)) ? t : null;
  });
  // Handed the dying member: replaced, and the status says so.
  if (c.json.containerId === victim.containerId) expect(s.lastReplaced?.cause).toContain(victim.containerId.slice(0, 12));
  expect(await until("race's URL answering", async () => (await viaUrl("race")).status === 200 || null)).toBe(true);
  expect((await post("/tenants/race/release", { workload: W })).status).toBe(200);
}, 120_000);

test("a claimed member whose container is killed: the tenant answers again at the same URL with its state, and its log says so", async () => {
  await readyCount(1);
  const { containerId, body } = await claimWithState("acme");
  const said = logLine("acme", /replaced by member/);
  expect((await engine("POST", `/containers/${containerId}/kill`)).status).toBe(204);
  await expectReplaced("acme", containerId, body);
  expect(await said).toMatch(new RegExp(`^container ${containerId.slice(0, 12)} died \\(exit 137\\); replaced by member \\w+ in \\d+ ms$`));
}, 120_000);

test("a claimed member whose container is removed (docker rm -f): the tenant answers again at the same URL with its state", async () => {
  await readyCount(1);
  const { containerId, body } = await claimWithState("bolt");
  const said = logLine("bolt", /replaced by member/);
  expect((await engine("DELETE", `/containers/${containerId}?force=true`)).status).toBe(204);
  await expectReplaced("bolt", containerId, body);
  expect(await said).toContain(`container ${containerId.slice(0, 12)}`);
}, 120_000);

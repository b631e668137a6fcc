/**
 * Kiln killed with SIGKILL while claims are held, then started again: it adopts its labelled
 * containers, existing claims still answer, the pool refills, nothing is orphaned.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { workloadYaml, writeWorkload } from "../helpers/workloads.ts";

const ROOT = join(import.meta.dir, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "kiln-pool-kill-"));
const env = {
  ...process.env,
  KILN_DATA_DIR: dataDir,
  KILN_WORKLOADS_DIR: join(dataDir, "workloads"),
  KILN_API_PORT: String(freePort()),
  KILN_PUBLIC_PORT: String(freePort()),
  KILN_PUBLIC_LISTEN: "127.0.0.1",
  KILN_CADDY_ADMIN: `http://127.0.0.1:${freePort()}`,
  KILN_DOCKER_NETWORK: "kiln-test",
  KILN_API_TOKEN: "test-token-0123456789abcdef",
};
const api = (path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${env.KILN_API_PORT}/api/v1${path}`, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${env.KILN_API_TOKEN}`, "content-type": "application/json" },
  });
const engine = (path: string) => fetch(`http://docker/v1.41${path}`, { unix: "/var/run/docker.sock" } as RequestInit);

async function serve() {
  const proc = Bun.spawn(["bun", "bin/kiln", "serve"], { cwd: ROOT, env, stdout: "ignore", stderr: "inherit" });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${env.KILN_API_PORT}/api/v1/health`).then((r) => r.ok, () => false)) return proc;
    await Bun.sleep(100);
  }
  throw new Error("kiln serve did not come up");
}

async function pool(): Promise<any> {
  return ((await (await api("/pools")).json()) as any).pools.find((p: any) => p.workload === "keep");
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await Bun.sleep(150);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function labelled(): Promise<any[]> {
  const id = (await Bun.file(join(dataDir, "instance-id")).text()).trim();
  return (await (await engine(`/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`kiln.instance=${id}`, "kiln.kind=pool-member"] }))}`)).json()) as any[];
}

afterAll(async () => {
  const proc = await serve();
  for (const t of ["p", "q"]) await api(`/tenants/${t}/release`, {});
  proc.kill("SIGTERM");
  await proc.exited;
  for (const c of await labelled()) await fetch(`http://docker/v1.41/containers/${c.Id}?force=1`, { method: "DELETE", unix: "/var/run/docker.sock" } as RequestInit);
  for (const pid of Bun.spawnSync(["pgrep", "-f", join(dataDir, "caddy")]).stdout.toString().trim().split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
  for (const dir of ["slots", "slots-staging"]) Bun.spawnSync(["umount", "-R", "-l", join(dataDir, dir)]);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

test("claims survive a SIGKILL of Kiln; the restarted Kiln adopts, refills and orphans nothing", async () => {
  writeWorkload(env.KILN_WORKLOADS_DIR, "keep", workloadYaml("keep", { min: 2, max: 4 }));
  let proc = await serve();
  await waitFor(async () => (await pool())?.counts.ready >= 2, "a warm pool");
  const p = (await (await api("/tenants/p/claim", { workload: "keep" })).json()) as any;
  const q = (await (await api("/tenants/q/claim", { workload: "keep" })).json()) as any;
  await fetch(`http://127.0.0.1:${p.endpoint.port}/write`);
  proc.kill("SIGKILL");
  await proc.exited;

  // Kiln is down; the tenants' containers keep serving, with their state mounted.
  expect(await (await fetch(`http://127.0.0.1:${p.endpoint.port}/`)).text()).toContain("hits=");

  proc = await serve();
  try {
    const again = (await (await api("/tenants/p/claim", { workload: "keep" })).json()) as any;
    expect(again.source).toBe("existing");
    expect(again.containerId).toBe(p.containerId);
    const viaCaddy = await fetch(`http://127.0.0.1:${env.KILN_PUBLIC_PORT}/`, { headers: { host: "q.keep.localhost" } });
    expect(viaCaddy.status).toBe(200);
    expect((await (await api("/tenants/q/claim", { workload: "keep" })).json() as any).containerId).toBe(q.containerId);
    await waitFor(async () => (await pool())?.counts.ready >= 2, "the pool to refill");
    // every labelled container is a member Kiln knows, and vice versa
    const members = (await pool()).members;
    const containers = await labelled();
    expect(new Set(containers.map((c: any) => c.Id))).toEqual(new Set(members.map((m: any) => m.containerId)));
    expect(containers.every((c: any) => c.State === "running")).toBe(true);
    // releasing after the restart works as usual
    expect((await api("/tenants/p/release", { workload: "keep" })).status).toBe(200);
    expect((await engine(`/containers/${p.containerId}/json`)).status).toBe(404);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 180_000);

/**
 * Kiln killed with SIGKILL while claims are held, then started again: it adopts its labelled
 * containers, existing claims still answer, the pool refills, nothing is orphaned.
 */
import { afterAll, expect, test, beforeAll } from "bun:test";
import { join } from "node:path";
import { kilnProcess } from "../helpers/kiln-process.ts";
import { until } from "../helpers/wait.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

const k = kilnProcess("kiln-pool-kill");
const { dataDir, env } = k;
const api = (path: string, body?: unknown) => (body === undefined ? k.api(path) : k.api(path, { body }));
const engine = (path: string) => fetch(`http://docker/v1.41${path}`, { unix: "/var/run/docker.sock" } as RequestInit);
const serve = () => k.serve();

async function pool(): Promise<any> {
  return ((await (await api("/pools")).json()) as any).pools.find((p: any) => p.workload === "keep");
}

async function labelled(): Promise<any[]> {
  const id = (await Bun.file(join(dataDir, "instance-id")).text()).trim();
  return (await (await engine(`/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`kiln.instance=${id}`, "kiln.kind=pool-member"] }))}`)).json()) as any[];
}

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  const proc = await serve();
  for (const t of ["p", "q"]) await api(`/tenants/${t}/release`, {});
  proc.kill("SIGTERM");
  await proc.exited;
  for (const c of await labelled()) await fetch(`http://docker/v1.41/containers/${c.Id}?force=1`, { method: "DELETE", unix: "/var/run/docker.sock" } as RequestInit);
  k.cleanup();
}, 60_000);

test("claims survive a SIGKILL of Kiln; the restarted Kiln adopts, refills and orphans nothing", async () => {
  writeWorkload(env.KILN_WORKLOADS_DIR!, "keep", workloadYaml("keep", { min: 2, max: 4 }));
  let proc = await serve();
  await until("a warm pool", async () => (await pool())?.counts.ready >= 2);
  const p = (await (await api("/tenants/p/claim", { workload: "keep" })).json()) as any;
  const q = (await (await api("/tenants/q/claim", { workload: "keep" })).json()) as any;
  await fetch(`http://127.0.0.1:${p.endpoint.port}/write`);
  proc.kill("SIGKILL");
  await proc.exited;

  // Kiln is down; the tenants' containers keep serving, with their state mounted, at their URLs
  // (Caddy and the tenant resolver are processes of their own).
  expect(await (await fetch(`http://127.0.0.1:${p.endpoint.port}/`)).text()).toContain("hits=");
  const whileDown = await fetch(`http://127.0.0.1:${env.KILN_PUBLIC_PORT}/`, { headers: { host: "p.keep.localhost" } });
  expect(whileDown.status).toBe(200);
  expect(await whileDown.text()).toContain("hits=");

  proc = await serve();
  try {
    const resolverPid = JSON.parse(await Bun.file(join(dataDir, "tenant-resolver.json")).text()).pid;
    const again = (await (await api("/tenants/p/claim", { workload: "keep" })).json()) as any;
    expect(again.source).toBe("existing");
    expect(again.containerId).toBe(p.containerId);
    const viaCaddy = await fetch(`http://127.0.0.1:${env.KILN_PUBLIC_PORT}/`, { headers: { host: "q.keep.localhost" } });
    expect(viaCaddy.status).toBe(200);
    expect(JSON.parse(await Bun.file(join(dataDir, "tenant-resolver.json")).text()).pid).toBe(resolverPid); // adopted, not replaced
    expect((await (await api("/tenants/q/claim", { workload: "keep" })).json() as any).containerId).toBe(q.containerId);
    await until("the pool to refill", async () => (await pool())?.counts.ready >= 2);
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

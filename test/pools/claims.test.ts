/** Tenant pools against the real Docker engine and Caddy: claim paths, isolation, release, refill. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

let kiln: TestKiln;
let workloads: string;

async function post(path: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await kiln.api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

async function waitReady(workload: string, n: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pools = (await (await kiln.api("/pools")).json()) as any;
    const p = pools.pools.find((x: any) => x.workload === workload);
    if (p && p.counts.ready >= n) return;
    await Bun.sleep(100);
  }
  throw new Error(`pool ${workload} never had ${n} ready members`);
}

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  kiln = await startTestKiln();
  workloads = kiln.config.pools.workloadsDir;
  writeWorkload(workloads, "echo", workloadYaml("echo", { min: 2, max: 3 }));
  writeWorkload(workloads, "solo", workloadYaml("solo", { min: 0, max: 1 }));
  await waitReady("echo", 2);
}, 120_000);

afterAll(async () => {
  for (const t of ["a", "b", "c", "d"]) await post(`/tenants/${t}/release`, {}).catch(() => {});
  await kiln?.stop();
}, 60_000);

test("a claim from the warm pool is fast, mounts the tenant's state and secrets, and answers through Caddy", async () => {
  const dirs = join(kiln.config.dataDir, "tenants/echo/a");
  mkdirSync(join(dirs, "secrets"), { recursive: true });
  writeFileSync(join(dirs, "secrets/key"), "secret-of-a");
  const c = await post("/tenants/a/claim", { workload: "echo" });
  expect(c.status).toBe(200);
  expect(c.json.source).toBe("pool");
  expect(c.json.latencyMs).toBeGreaterThan(0); // measured at the server; its size is the benchmark's business
  expect(c.json.endpoint.url).toBe(`http://a.echo.localhost:${kiln.publicPort}/`);
  const direct = await fetch(`http://127.0.0.1:${c.json.endpoint.port}/write`);
  expect(await direct.text()).toContain("secret=secret-of-a");
  const viaCaddy = await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: `a.echo.localhost` } });
  expect(viaCaddy.status).toBe(200);
  const body = await viaCaddy.text();
  expect(body).toContain("hits=");
  expect(existsSync(join(dirs, "state/hits"))).toBe(true);
});

test("claiming again returns the tenant's existing container", async () => {
  const first = await post("/tenants/a/claim", { workload: "echo" });
  const again = await post("/tenants/a/claim", { workload: "echo" });
  expect(again.json.source).toBe("existing");
  expect(again.json.containerId).toBe(first.json.containerId);
});

test("tenant B never sees tenant A's files", async () => {
  const b = await post("/tenants/b/claim", { workload: "echo" });
  expect(b.status).toBe(200);
  const text = await (await fetch(`http://127.0.0.1:${b.json.endpoint.port}/`)).text();
  expect(text).not.toContain("hits=");
  expect(text).not.toContain("secret-of-a");
});

test("a cold start when the pool is empty, 503 with Retry-After at max_size", async () => {
  const c = await post("/tenants/c/claim", { workload: "solo" });
  expect(c.status).toBe(200);
  expect(c.json.source).toBe("cold");
  const d = await post("/tenants/d/claim", { workload: "solo" });
  expect(d.status).toBe(503);
  expect(d.headers.get("retry-after")).toBeTruthy();
  expect(d.json.error.message).toContain("max_size");
});

test("with max_size 1, the next tenant gets a fresh container that never saw the last one's files", async () => {
  const c = await post("/tenants/c/claim", { workload: "solo" });
  await fetch(`http://127.0.0.1:${c.json.endpoint.port}/write`);
  expect((await post("/tenants/c/release", { workload: "solo" })).status).toBe(200);
  const d = await post("/tenants/d/claim", { workload: "solo" });
  expect(d.status).toBe(200);
  expect(d.json.containerId).not.toBe(c.json.containerId);
  const text = await (await fetch(`http://127.0.0.1:${d.json.endpoint.port}/`)).text();
  expect(text).not.toContain("hits=");
  await post("/tenants/d/release", {});
});

test("release destroys the member, keeps the state, and the pool refills; re-claim sees the state again", async () => {
  const before = await post("/tenants/a/claim", { workload: "echo" });
  const r = await post("/tenants/a/release", { workload: "echo" });
  expect(r.status).toBe(200);
  expect(r.json.released).toEqual(["echo"]);
  const inspect = await fetch(`http://docker/v1.41/containers/${before.json.containerId}/json`, { unix: "/var/run/docker.sock" } as RequestInit);
  expect(inspect.status).toBe(404);
  const status = await (await kiln.api("/tenants/a/status")).json() as any;
  expect(status.tenants[0].status).toBe("released");
  const gone = await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: "a.echo.localhost" } });
  expect(gone.status).toBe(503);
  expect(await gone.text()).toBe("no tenant container answers at this address\n");
  await waitReady("echo", 1);
  const again = await post("/tenants/a/claim", { workload: "echo" });
  expect(again.status).toBe(200);
  expect(again.json.containerId).not.toBe(before.json.containerId);
  const text = await (await fetch(`http://127.0.0.1:${again.json.endpoint.port}/`)).text();
  expect(text).toContain("hits=");
  expect(text).toContain("secret=secret-of-a");
  // The same stable URL now reaches the new container.
  const viaCaddy = await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: "a.echo.localhost" } });
  expect(viaCaddy.status).toBe(200);
  expect(await viaCaddy.text()).toContain("secret=secret-of-a");
});

test("the member is hardened (inspect)", async () => {
  const c = await post("/tenants/b/claim", { workload: "echo" });
  const info = (await (await fetch(`http://docker/v1.41/containers/${c.json.containerId}/json`, { unix: "/var/run/docker.sock" } as RequestInit)).json()) as any;
  expect(info.HostConfig.ReadonlyRootfs).toBe(true);
  expect(info.HostConfig.CapDrop).toContain("ALL");
  expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
  expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
  expect(info.HostConfig.Memory).toBeGreaterThan(0);
  expect(Object.keys(info.HostConfig.Tmpfs)).toEqual(expect.arrayContaining(["/tmp", "/run"]));
  expect(info.HostConfig.Tmpfs["/tmp"]).toContain("size=");
  expect(info.Config.User).toBe("1000:1000");
  const mounts = info.Mounts.map((m: any) => [m.Destination, m.RW]);
  expect(mounts).toEqual(expect.arrayContaining([["/state", true], ["/secrets", false]]));
});

test("bad tenant ids and unknown workloads get clear 4xx errors", async () => {
  for (const id of ["A", "a_b", "a.b", "x".repeat(64), "-x", "x-"]) {
    const r = await post(`/tenants/${encodeURIComponent(id)}/claim`, { workload: "echo" });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain("tenant id");
  }
  const r = await post("/tenants/zed/claim", { workload: "nope" });
  expect(r.status).toBe(404);
  expect(r.json.error.hint).toContain("echo");
});

test("a tenant's log stream replays its claims and releases over the WebSocket", async () => {
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${kiln.apiUrl.replace("http", "ws")}/api/v1/tenants/a/logs?workload=echo&token=${kiln.token}`);
    const timer = setTimeout(() => (ws.close(), reject(new Error(`got only: ${lines.join(" | ")}`))), 30_000);
    ws.onmessage = (ev) => {
      lines.push(JSON.parse(String(ev.data)).text);
      if (lines.some((l) => l.startsWith("released")) && lines.filter((l) => l.startsWith("claimed")).length >= 2) {
        clearTimeout(timer);
        ws.close();
        resolve();
      }
    };
  });
  const unknown = await kiln.api("/tenants/nobody/logs?workload=echo", { headers: { upgrade: "websocket" } });
  expect(unknown.status).toBe(404);
});

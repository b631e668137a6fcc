/**
 * The claim path behind docker-socket-proxy with only CONTAINERS, IMAGES and POST enabled (plus
 * what it always allows: PING, VERSION, EVENTS): no exec, no network or volume endpoints. A real
 * Kiln talks to the real engine through test/helpers/socket-proxy.ts, a double of the proxy's
 * HAProxy rules that records every request.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { socketProxyAllows, startSocketProxy, type ProxiedRequest, type SocketProxy } from "../helpers/socket-proxy.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

const ALLOW = { CONTAINERS: true, IMAGES: true, POST: true };
const SOCKET = "/var/run/docker.sock";
/** Its own network, created by the test as an operator would (and out of reach of other runs' leftover sweeps). */
const NETWORK = "kiln-test-socket-proxy";
const real = new DockerEngine({ socketPath: SOCKET });
const engine = (path: string, method = "GET") => fetch(`http://docker/v1.41${path}`, { method, unix: SOCKET } as RequestInit);

let proxy: SocketProxy;
let kiln: TestKiln;
/** Indexes into proxy.requests: the end of Kiln's startup, and the claim phase. */
let startupEnd = 0;
let claimStart = 0;
let claimEnd = 0;

async function post(path: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await kiln.api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

async function waitReady(workload: string, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const pools = (await (await kiln.api("/pools")).json()) as any;
    const p = pools.pools.find((x: any) => x.workload === workload);
    if (p && p.counts.ready >= n) return;
    last = p;
    await Bun.sleep(100);
  }
  const failed = proxy.requests.filter((r) => !r.allowed || (r.status ?? 0) >= 400).map((r) => `${r.method} ${r.path} ${r.status} ${r.error?.trim() ?? ""}`);
  throw new Error(`pool ${workload} never had ${n} ready members: ${JSON.stringify(last)}; failed requests: ${failed.slice(-10).join(", ")}`);
}

/** "METHOD /path" with the API version dropped and ids and image refs generalised. */
function endpoint(r: ProxiedRequest): string {
  const path = r.path
    .replace(/^\/v[\d.]+/, "")
    .replace(/^\/containers\/(?!create$|json$)[^/]+/, "/containers/{id}")
    .replace(/^\/images\/(?!create$|json$|load$)[^/]+/, "/images/{name}");
  return `${r.method} ${path}`;
}

const touches = (section: string) => (r: ProxiedRequest) => new RegExp(`^(/v[\\d.]+)?(/[^/]+)*/${section}(/|$)`, "i").test(decodeURIComponent(r.path));

/** Containers an interrupted earlier run left on the network, then the network itself (when asked). */
async function clearNetwork(removeNetwork: boolean): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ network: [NETWORK] }));
  const left = (await (await engine(`/containers/json?all=1&filters=${filters}`)).json()) as { Id: string }[];
  for (const c of left) await real.removeContainer(c.Id);
  if (removeNetwork) await (await engine(`/networks/${NETWORK}`, "DELETE")).text();
}

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  await clearNetwork(false);
  // What the operator does behind a proxy without NETWORKS: create Kiln's network beforehand (here through the real socket).
  await real.ensureNetwork(NETWORK, { "kiln.managed": "true", "kiln.test": "1" });
  proxy = await startSocketProxy({ upstream: SOCKET, allow: ALLOW });
  kiln = await startTestKiln({ KILN_DOCKER_SOCKET: proxy.socketPath, KILN_DOCKER_NETWORK: NETWORK });
  startupEnd = proxy.requests.length;
  writeWorkload(kiln.config.pools.workloadsDir, "echo", workloadYaml("echo", { min: 2, max: 3 }));
  writeWorkload(kiln.config.pools.workloadsDir, "solo", workloadYaml("solo", { min: 0, max: 1 }));
  await waitReady("echo", 2);
}, 60_000);

afterAll(async () => {
  for (const t of ["a", "c"]) await post(`/tenants/${t}/release`, {}).catch(() => {});
  try {
    await kiln?.stop(); // its clean-up goes through the proxy too: CONTAINERS is enough
  } finally {
    await proxy?.stop();
    await clearNetwork(true);
  }
}, 30_000);

describe("the proxy double applies docker-socket-proxy's rules", () => {
  // The cases of the proxy's own tests (tests/test_service.py), as requests.
  test("defaults: only PING, VERSION and EVENTS, read-only", () => {
    const none = {};
    expect(socketProxyAllows("GET", "/v1.41/version", none)).toBe(true);
    expect(socketProxyAllows("HEAD", "/_ping", none)).toBe(true);
    expect(socketProxyAllows("GET", "/v1.41/events", none)).toBe(true);
    expect(socketProxyAllows("POST", "/v1.41/containers/create", none)).toBe(false);
    expect(socketProxyAllows("GET", "/v1.41/containers/x/logs", none)).toBe(false);
    expect(socketProxyAllows("GET", "/v1.41/networks", none)).toBe(false);
    expect(socketProxyAllows("GET", "/v1.41/info", none)).toBe(false);
    expect(socketProxyAllows("POST", "/v1.41/build", none)).toBe(false);
  });

  test("a section without POST is read-only; POST alone opens no section", () => {
    expect(socketProxyAllows("GET", "/v1.41/containers/x/json", { CONTAINERS: true })).toBe(true);
    expect(socketProxyAllows("POST", "/v1.41/containers/x/wait", { CONTAINERS: true })).toBe(false);
    expect(socketProxyAllows("DELETE", "/v1.41/containers/x", { CONTAINERS: true })).toBe(false);
    expect(socketProxyAllows("DELETE", "/v1.41/containers/x", { POST: true })).toBe(false);
    expect(socketProxyAllows("POST", "/v1.41/networks/create", { POST: true })).toBe(false);
    expect(socketProxyAllows("POST", "/v1.41/networks/create", { POST: true, NETWORKS: true })).toBe(true);
    expect(socketProxyAllows("POST", "/v1.41/containers/x/start", { CONTAINERS: true, ALLOW_START: true })).toBe(false); // POST is checked first
  });

  test("Kiln's configuration: exec, networks, volumes and build stay closed", () => {
    expect(socketProxyAllows("POST", "/v1.41/containers/create", ALLOW)).toBe(true);
    expect(socketProxyAllows("DELETE", "/v1.41/containers/abc", ALLOW)).toBe(true);
    expect(socketProxyAllows("POST", "/v1.41/images/create", ALLOW)).toBe(true);
    expect(socketProxyAllows("POST", "/v1.41/exec/abc/start", ALLOW)).toBe(false);
    expect(socketProxyAllows("GET", "/v1.41/networks/kiln", ALLOW)).toBe(false);
    expect(socketProxyAllows("GET", "/v1.41/volumes", ALLOW)).toBe(false);
    expect(socketProxyAllows("POST", "/v1.41/build", ALLOW)).toBe(false);
    expect(socketProxyAllows("GET", "/v1.41/%6eetworks", ALLOW)).toBe(false); // url_dec before matching
  });
});

describe("Kiln behind the proxy (CONTAINERS, IMAGES, POST)", () => {
  test("startup: the network check is the one refused request, and Kiln starts anyway", () => {
    const refused = proxy.requests.slice(0, startupEnd).filter((r) => !r.allowed);
    expect(refused.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v1.41/networks"]);
  });

  test("claim from the warm pool, claim again, cold claim, 503 at max_size, release: all through the proxy", async () => {
    claimStart = proxy.requests.length;

    const a = await post("/tenants/a/claim", { workload: "echo" });
    expect(a.status).toBe(200);
    expect(a.json.source).toBe("pool");
    expect((await fetch(`http://127.0.0.1:${a.json.endpoint.port}/`)).status).toBe(200);

    const again = await post("/tenants/a/claim", { workload: "echo" });
    expect(again.json.source).toBe("existing");
    expect(again.json.containerId).toBe(a.json.containerId);

    const c = await post("/tenants/c/claim", { workload: "solo" });
    expect(c.status).toBe(200);
    expect(c.json.source).toBe("cold");
    expect((await fetch(`http://127.0.0.1:${c.json.endpoint.port}/`)).status).toBe(200);

    const d = await post("/tenants/d/claim", { workload: "solo" });
    expect(d.status).toBe(503);
    expect(d.headers.get("retry-after")).toBeTruthy();
    expect(d.json.error.message).toContain("max_size");

    expect((await post("/tenants/a/release", { workload: "echo" })).status).toBe(200);
    expect((await post("/tenants/c/release", { workload: "solo" })).status).toBe(200);
    for (const id of [a.json.containerId, c.json.containerId]) {
      expect((await engine(`/containers/${id}/json`)).status).toBe(404);
    }
    await waitReady("echo", 2); // the refill after the claim and the release, through the proxy as well
    claimEnd = proxy.requests.length;
  }, 30_000);

  test("the claim phase was refused nothing and used no exec, network, volume or build endpoint", () => {
    expect(claimEnd).toBeGreaterThan(claimStart);
    const phase = proxy.requests.slice(claimStart, claimEnd);
    expect(phase.filter((r) => !r.allowed)).toEqual([]);
    const all = proxy.requests.slice(0, claimEnd);
    for (const section of ["exec", "volumes", "build"]) expect(all.filter(touches(section))).toEqual([]);
    expect(proxy.requests.slice(startupEnd, claimEnd).filter(touches("networks"))).toEqual([]);

    // The endpoints the claim path used (docs/: "running behind a socket proxy").
    const used = [...new Set(phase.map(endpoint))].sort();
    expect(used).toEqual(
      expect.arrayContaining(["POST /containers/create", "POST /containers/{id}/start", "GET /containers/{id}/json", "DELETE /containers/{id}"]),
    );
    const documented = new Set([
      "POST /containers/create",
      "POST /containers/{id}/start",
      "GET /containers/{id}/json",
      "DELETE /containers/{id}",
      "GET /containers/json",
      // the base image check Kiln runs in the background at startup may still be going
      "GET /images/{name}/json",
      "POST /images/create",
      "GET /images/json",
    ]);
    expect(used.filter((e) => !documented.has(e))).toEqual([]);
  });

  test("the proxy really refuses what is not enabled", async () => {
    const via = (path: string, method = "GET") => fetch(`http://docker${path}`, { method, unix: proxy.socketPath } as RequestInit);
    expect((await via("/v1.41/networks")).status).toBe(403);
    expect((await via("/v1.41/volumes")).status).toBe(403);
    expect((await via("/v1.41/exec/nope/start", "POST")).status).toBe(403);
    expect((await via("/v1.41/build", "POST")).status).toBe(403);
    const refused = await via("/v1.41/info");
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Request forbidden by administrative rules.");
    expect((await via("/v1.41/containers/json")).status).toBe(200);
  });
});

/**
 * KILN_ENGINE=swarm across a Kiln restart: the service and the edge keep serving while Kiln is
 * stopped (Swarm and dockerd run them, not Kiln), and the next Kiln on the same data directory
 * adopts the edge (same container, same address), loads the app's route through it again, leaves
 * the service alone (Swarm restarts tasks, not Kiln's convergence), and can still update it.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startKiln, type Kiln } from "../../src/main.ts";
import { TEST_NETWORK } from "../helpers/network.ts";
import { freePort } from "../helpers/ports.ts";
import { appTar } from "./fixture.ts";
import { ensureSwarm } from "./swarm-node.ts";

const dataDir = mkdtempSync(join(tmpdir(), "kiln-swarm-restart-"));
const publicPort = freePort();
const env = {
  KILN_DATA_DIR: dataDir,
  KILN_API_PORT: String(freePort()),
  KILN_PUBLIC_PORT: String(publicPort),
  KILN_PUBLIC_LISTEN: "127.0.0.1",
  KILN_CADDY_ADMIN: `http://127.0.0.1:${freePort()}`,
  KILN_DOCKER_NETWORK: TEST_NETWORK,
  KILN_WORKLOADS_DIR: join(dataDir, "workloads"),
  KILN_ENGINE: "swarm",
  KILN_REGISTRY_PORT: String(freePort()),
  KILN_SWARM_NETWORK: "kiln-swarm-rs",
};
let current: Kiln | null = null;

const api = (k: Kiln, path: string, init: RequestInit = {}) => fetch(`${k.apiUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${k.token}`, ...(init.headers ?? {}) } });
const get = () => fetch(`http://127.0.0.1:${publicPort}/`, { headers: { host: `again.localhost:${publicPort}` } });

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

afterAll(async () => {
  if (current) {
    for (const d of await current.service.list()) await current.service.remove(d.id, { volumes: true }).catch(() => {});
    await current.stop();
    for (const c of await current.runtime.listContainers({ "kiln.instance": current.instanceId })) await current.runtime.removeContainer(c.id);
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

test("the app serves while Kiln is down and the next Kiln adopts the edge and the service", async () => {
  await ensureSwarm();
  const first = (current = await startKiln(loadConfig(env), { quiet: true }));
  const res = await api(first, "/deployments/upload?name=again", {
    method: "POST",
    body: await appTar(),
    headers: { "Kiln-Env": JSON.stringify({ VERSION: "v1" }), "Kiln-Settings": JSON.stringify({ replicas: 2, healthcheck: { path: "/healthz", startPeriod: 20 } }) },
  });
  expect(res.status).toBe(202);
  const id = ((await res.json()) as { id: string }).id;
  await until("the first deploy", async () => (await first.service.get(id)).status === "running", 240_000);
  expect((await get()).status).toBe(200);
  const edgeBefore = { id: first.swarm!.edge.containerId, address: first.swarm!.edge.address };
  await first.stop();
  current = null;

  // Kiln (and its Caddy) are down; the edge and the tasks still run.
  const tasks = await first.swarm!.client.listTasks(`kiln-again-${id}`);
  expect(tasks.filter((t) => t.desiredState === "running" && t.state === "running").length).toBe(2);
  const direct = await fetch(`http://${edgeBefore.address}/`, { headers: { host: "again.localhost" } });
  expect(direct.status).toBe(200);

  const second = (current = await startKiln(loadConfig(env), { quiet: true }));
  expect({ id: second.swarm!.edge.containerId, address: second.swarm!.edge.address }).toEqual(edgeBefore);
  await until("the route through the new Caddy", async () => (await get().catch(() => null))?.status === 200, 30_000);
  expect((await second.service.get(id)).status).toBe("running");
  const change = await api(second, `/deployments/${id}/env?wait=true`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ set: { VERSION: "v2" } }) });
  expect(change.status).toBe(200);
  expect(((await (await get()).json()) as { version: string }).version).toBe("v2");
}, 400_000);

/**
 * KILN_ENGINE=swarm on two nodes: this machine's dockerd (the manager, on loopback) and a second
 * dockerd in its own network namespace joined as a worker (second-node.ts). Proves that the
 * replicas are spread over both nodes, that the second node pulls the image from Kiln's registry,
 * that the edge on the manager reaches the worker's task over the overlay network (both answer
 * through Caddy), that an update under a bounded loop of requests fails none while tasks on both
 * nodes are replaced, and that deleting the app leaves nothing on either node. Every request goes to 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SwarmClient, TaskInfo } from "../../src/adapters/swarm/client.ts";
import { EngineHttp } from "../../src/adapters/docker/http.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { freePort } from "../helpers/ports.ts";
import { appTar } from "./fixture.ts";
import { SecondNode } from "./second-node.ts";
import { ensureSwarm } from "./swarm-node.ts";

const NAME = "twonode";
let kiln: TestKiln;
let manager: SwarmClient;
let node2: SecondNode | null = null;
let registryPort: number;
let id: string;
let service: string;

const send = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function runningTasks(): Promise<TaskInfo[]> {
  return (await manager.listTasks(service)).filter((t) => t.desiredState === "running" && t.state === "running");
}

async function hostsAnswering(tries: number): Promise<Set<string>> {
  const hosts = new Set<string>();
  for (let i = 0; i < tries && hosts.size < 2; i++) {
    const res = await kiln.viaSubdomain(NAME);
    expect(res.status).toBe(200);
    hosts.add(((await res.json()) as { host: string }).host);
  }
  return hosts;
}

beforeAll(async () => {
  manager = await ensureSwarm();
  registryPort = freePort();
  node2 = await SecondNode.create({ registryPort, manager });
  kiln = await startTestKiln({ KILN_ENGINE: "swarm", KILN_REGISTRY_PORT: String(registryPort), KILN_SWARM_NETWORK: "kiln-swarm-2n" });
  const res = await kiln.api(`/deployments/upload?name=${NAME}`, {
    method: "POST",
    body: await appTar(),
    headers: { "Kiln-Env": JSON.stringify({ VERSION: "v1" }), "Kiln-Settings": JSON.stringify({ replicas: 2, healthcheck: { path: "/healthz", startPeriod: 30 } }) },
  });
  expect(res.status).toBe(202);
  id = ((await res.json()) as { id: string }).id;
  const d = await kiln.waitFor(id, ["running", "failed"], 240_000);
  expect({ status: d.status, failureReason: d.failureReason }).toEqual({ status: "running", failureReason: null });
  service = `kiln-${NAME}-${id}`;
}, 360_000);

afterAll(async () => {
  try {
    await kiln?.stop();
  } finally {
    await node2?.remove(manager);
  }
}, 180_000);

describe("KILN_ENGINE=swarm on two nodes", () => {
  test("the two replicas run one on each node, and both answer through Caddy and the edge", async () => {
    const tasks = await runningTasks();
    expect(tasks.length).toBe(2);
    expect(new Set(tasks.map((t) => t.nodeId))).toEqual(new Set([(await manager.state()).nodeId, node2!.nodeId]));
    expect((await hostsAnswering(40)).size).toBe(2);
  });

  test("an env change under a loop of requests across two nodes: zero failed, both new tasks answer", async () => {
    let done = false;
    const change = kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { VERSION: "v2" } })).finally(() => (done = true));
    const failed: string[] = [];
    let ok = 0;
    const deadline = Date.now() + 180_000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; !done && Date.now() < deadline && i < 20_000; i++) {
          try {
            const res = await kiln.viaSubdomain(NAME);
            const text = await res.text();
            if (res.status === 200) ok++;
            else failed.push(`${res.status}: ${text.slice(0, 100)}`);
          } catch (err) {
            failed.push(err instanceof Error ? err.message : String(err));
          }
        }
      }),
    );
    expect((await change).status).toBe(200);
    console.log(`two nodes, env change under load: ${ok} answered, ${failed.length} failed`);
    expect(failed).toEqual([]);
    // Spread is a scheduling preference, weighed while the old tasks still run (start-first): the new
    // tasks may share a node. Both must run and answer, wherever they are.
    const tasks = await runningTasks();
    expect(tasks.length).toBe(2);
    console.log(`two nodes, after the update: tasks on ${new Set(tasks.map((t) => t.nodeId)).size} node(s)`);
    expect((await hostsAnswering(40)).size).toBe(2);
    const res = await kiln.viaSubdomain(NAME);
    expect(((await res.json()) as { version: string }).version).toBe("v2");
  }, 200_000);

  test("deleting the app leaves nothing on either node", async () => {
    expect((await kiln.api(`/deployments/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(await manager.inspectService(service)).toBeNull();
    const worker = new EngineHttp("/run/kiln-swarm-n2/docker.sock", "v1.41");
    const filters = JSON.stringify({ label: [`kiln.swarm.deployment=${id}`] });
    const deadline = Date.now() + 30_000;
    let left: unknown[] = [];
    for (;;) {
      left = [
        ...(await worker.json<unknown[]>({ path: "/containers/json", query: { all: true, filters } })),
        ...(await kiln.runtime.listContainers({ "kiln.swarm.deployment": id })),
      ];
      if (left.length === 0 || Date.now() > deadline) break;
      await Bun.sleep(250);
    }
    expect(left).toEqual([]);
  }, 60_000);
});

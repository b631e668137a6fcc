/**
 * KILN_ENGINE=swarm against the real engine, on a single-node swarm (made on loopback when this
 * dockerd is not one yet): a deploy is a Swarm service (2 replicas, start-first updates with
 * rollback, dnsrr, kiln labels, the hardening) answering through the host's Caddy and the edge;
 * a redeploy and an env change under a bounded loop of requests fail none; a rollback serves the
 * earlier release's image; an update whose health check fails is rolled back by Swarm and the old
 * release keeps serving; deleting the deployment removes its service and network.
 * One Kiln, one app; the tests run in order. Every request goes to 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SwarmClient, TaskInfo } from "../../src/adapters/swarm/client.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { freePort } from "../helpers/ports.ts";
import { appTar } from "./fixture.ts";
import { ensureSwarm } from "./swarm-node.ts";

const NAME = "swarmy";
let kiln: TestKiln;
let swarm: SwarmClient;
let id: string;
let service: string;

const send = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function app(): Promise<{ version: string; host: string }> {
  const res = await kiln.viaSubdomain(NAME);
  expect(res.status).toBe(200);
  return (await res.json()) as { version: string; host: string };
}

async function releases(): Promise<any[]> {
  return ((await (await kiln.api(`/deployments/${id}/releases`)).json()) as any).releases;
}

async function runningTasks(): Promise<TaskInfo[]> {
  return (await swarm.listTasks(service)).filter((t) => t.desiredState === "running" && t.state === "running");
}

/** Bounded load through Caddy on loopback: `clients` loops until `stop` settles, at most `maxMs` and 20,000 requests each. */
async function underLoad(stop: Promise<unknown>, opts: { clients: number; maxMs: number }): Promise<{ ok: number; failed: string[]; versions: Set<string> }> {
  let done = false;
  void stop.finally(() => (done = true));
  const deadline = Date.now() + opts.maxMs;
  const failed: string[] = [];
  const versions = new Set<string>();
  let ok = 0;
  await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      for (let i = 0; !done && Date.now() < deadline && i < 20_000; i++) {
        try {
          const res = await kiln.viaSubdomain(NAME);
          const text = await res.text();
          if (res.status === 200) {
            ok++;
            versions.add((JSON.parse(text) as { version: string }).version);
          } else failed.push(`${res.status}: ${text.slice(0, 100)}`);
        } catch (err) {
          failed.push(err instanceof Error ? err.message : String(err));
        }
      }
    }),
  );
  return { ok, failed, versions };
}

beforeAll(async () => {
  swarm = await ensureSwarm();
  kiln = await startTestKiln({ KILN_ENGINE: "swarm", KILN_REGISTRY_PORT: String(freePort()), KILN_SWARM_NETWORK: "kiln-swarm-test" });
  const res = await kiln.api(`/deployments/upload?name=${NAME}`, {
    method: "POST",
    body: await appTar(),
    headers: { "Kiln-Env": JSON.stringify({ VERSION: "v1" }), "Kiln-Settings": JSON.stringify({ replicas: 2, healthcheck: { path: "/healthz", startPeriod: 20 } }) },
  });
  expect(res.status).toBe(202);
  id = ((await res.json()) as { id: string }).id;
  const d = await kiln.waitFor(id, ["running", "failed"], 240_000);
  expect({ status: d.status, failureReason: d.failureReason }).toEqual({ status: "running", failureReason: null });
  service = `kiln-${NAME}-${id}`;
}, 300_000);

afterAll(async () => {
  await kiln?.stop();
}, 120_000);

describe("KILN_ENGINE=swarm", () => {
  test("a deploy is a Swarm service: 2 replicas, start-first with rollback, dnsrr, kiln labels, hardening", async () => {
    const svc = await swarm.inspectService(service);
    expect(svc).not.toBeNull();
    const spec = svc!.spec;
    expect(spec.Mode.Replicated.Replicas).toBe(2);
    expect(spec.UpdateConfig).toMatchObject({ Order: "start-first", FailureAction: "rollback", Parallelism: 1 });
    expect(spec.RollbackConfig).toMatchObject({ Order: "start-first" });
    expect(spec.EndpointSpec.Mode).toBe("dnsrr");
    expect(svc!.labels).toMatchObject({ "kiln.managed": "true", "kiln.instance": kiln.instanceId, "kiln.deployment": id, "kiln.kind": "app-service" });
    const c = spec.TaskTemplate.ContainerSpec;
    expect(c.CapabilityDrop).toEqual(["ALL"]);
    expect(c.Init).toBe(true);
    expect(c.Healthcheck.Test[0]).toBe("CMD-SHELL");
    expect(c.Image.startsWith(`${kiln.swarm!.registry}/kiln/app-${NAME}:`)).toBe(true);
    expect(spec.TaskTemplate.Resources.Limits.MemoryBytes).toBe(512 * 1024 * 1024);
    expect(spec.TaskTemplate.Resources.Limits.Pids).toBe(256);
    expect((await runningTasks()).length).toBe(2);
    // The task containers carry Kiln's labels, but are not app containers Kiln restarts itself.
    const containers = await kiln.runtime.listContainers({ "kiln.swarm.deployment": id });
    expect(containers.filter((x) => x.running).length).toBe(2);
    for (const x of containers) expect(x.labels["kiln.kind"]).toBe("swarm-task");
  });

  test("answers through Caddy on loopback from both replicas (subdomain and /d/<id>)", async () => {
    const hosts = new Set<string>();
    for (let i = 0; i < 40 && hosts.size < 2; i++) {
      const body = await app();
      expect(body.version).toBe("v1");
      hosts.add(body.host);
    }
    expect(hosts.size).toBe(2);
    const viaPath = await kiln.viaPath(id);
    expect(viaPath.status).toBe(200);
    expect(((await viaPath.json()) as { version: string }).version).toBe("v1");
  });

  test("a redeploy (a new build) under a loop of requests: zero failed, tasks replaced start-first", async () => {
    const before = new Set((await runningTasks()).map((t) => t.id));
    const count = (await releases()).length;
    const change = (async () => {
      expect((await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" })).status).toBe(202);
      const deadline = Date.now() + 240_000;
      while ((await releases()).length === count && Date.now() < deadline) await Bun.sleep(250);
    })();
    const load = await underLoad(change, { clients: 4, maxMs: 250_000 });
    await change;
    expect((await releases()).length).toBe(count + 1);
    console.log(`redeploy under load: ${load.ok} answered, ${load.failed.length} failed`);
    expect(load.failed).toEqual([]);
    expect(load.ok).toBeGreaterThan(50);
    const after = await runningTasks();
    expect(after.length).toBe(2);
    for (const t of after) expect(before.has(t.id)).toBe(false);
  }, 300_000);

  test("an env change is a start-first update: zero failed requests, the new value served", async () => {
    const change = kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { VERSION: "v2" } }));
    const load = await underLoad(change, { clients: 4, maxMs: 180_000 });
    expect((await change).status).toBe(200);
    console.log(`env change under load: ${load.ok} answered, ${load.failed.length} failed`);
    expect(load.failed).toEqual([]);
    expect(load.versions.has("v2")).toBe(true);
    for (let i = 0; i < 10; i++) expect((await app()).version).toBe("v2");
  }, 200_000);

  test("rollback: the service runs the earlier release's image again, with its env", async () => {
    const all = await releases();
    const first = all.find((r) => r.number === 1);
    const res = await kiln.api(`/deployments/${id}/rollback?wait=true`, send("POST", { release: 1 }));
    expect(res.status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await app()).version).toBe("v1");
    const svc = await swarm.inspectService(service);
    expect(svc!.spec.TaskTemplate.ContainerSpec.Image.endsWith(first.image.slice(first.image.lastIndexOf(":")))).toBe(true);
    expect(svc!.labels["kiln.build"]).toBe(first.buildId);
  }, 200_000);

  test("an update whose health check fails is rolled back by Swarm; the old release keeps serving", async () => {
    const count = (await releases()).length;
    const res = await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { HEALTH: "fail", VERSION: "broken" } }));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("rolled it back");
    expect((await releases()).length).toBe(count);
    for (let i = 0; i < 10; i++) expect((await app()).version).toBe("v1");
    const svc = await swarm.inspectService(service);
    expect(svc!.updateState).toBe("rollback_completed");
  }, 200_000);

  test("deleting the deployment removes its service and network: no orphans", async () => {
    expect((await kiln.api(`/deployments/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(await swarm.inspectService(service)).toBeNull();
    expect(await swarm.listServices({ "kiln.deployment": id })).toEqual([]);
    // A swarm network's delete is taken at once; the engine's own copy goes when the last task has let go of it.
    const deadline = Date.now() + 15_000;
    while ((await swarm.listNetworks({ "kiln.deployment": id })).length && Date.now() < deadline) await Bun.sleep(250);
    expect(await swarm.listNetworks({ "kiln.deployment": id })).toEqual([]);
    expect((await kiln.viaSubdomain(NAME)).status).toBe(404);
  }, 60_000);

  test("the sweep removes this Kiln's services that no deployment serves from", async () => {
    const { serviceSpec } = await import("../../src/adapters/swarm/service-spec.ts");
    const spec = serviceSpec({
      name: "orphan",
      deploymentId: "gone00000000",
      buildId: "b0",
      image: "kiln/static-runtime:does-not-matter",
      env: {},
      port: 3000,
      settings: { ...(await import("../../src/core/settings.ts")).DEFAULT_SETTINGS, replicas: 0 },
      limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 1e8, pids: 16 },
      network: "kiln-swarm-test-none",
      instanceId: kiln.instanceId,
      readyTimeoutMs: 1000,
    });
    const made = await swarm.createService({ ...spec, TaskTemplate: { ...spec.TaskTemplate, Networks: [] } });
    try {
      const removed = await kiln.swarm!.sweep(await kiln.service.list(), () => false);
      expect(removed).toContain("kiln-orphan-gone00000000");
      expect(await swarm.inspectService(made)).toBeNull();
    } finally {
      await swarm.removeService(made);
    }
  }, 60_000);
});

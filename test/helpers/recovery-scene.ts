/**
 * A live test Kiln to break: apps deployed from tarballs (hello-node and the static fixture, in turn),
 * workloads with warm pools, and claimed tenants each with a secret and a state file written by their
 * own container. Returns the probes (test/helpers/recovery.ts) that say it all answers, checked once
 * before it is handed back. Used by test/recovery/dockerd-restart.test.ts and bench/recovery.bench.ts.
 *
 *   const scene = await liveScene(kiln, { apps: 2, workloads: [{ id: "keep", min: 2, max: 4, claims: 2 }] });
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestKiln } from "./kiln.ts";
import { tarOf } from "./kiln.ts";
import { appProbe, poolProbe, tenantProbe, watchRecovery, type Probe } from "./recovery.ts";
import { workloadYaml, writeWorkload } from "./workloads.ts";

const APPS = [
  { dir: join(import.meta.dir, "../../examples/hello-node"), expect: "hello from kiln" },
  { dir: join(import.meta.dir, "../fixtures/apps/static"), expect: "hello from a static site" },
];

export interface SceneWorkload {
  id: string;
  min: number;
  max: number;
  /** How many tenants claim a member of it. */
  claims: number;
}

export interface Scene {
  apps: string[];
  tenants: { workload: string; tenant: string }[];
  probes: Probe[];
}

export async function liveScene(kiln: TestKiln, opts: { apps: number; workloads: SceneWorkload[]; healthInterval?: string }): Promise<Scene> {
  for (const w of opts.workloads) {
    writeWorkload(kiln.config.pools.workloadsDir, w.id, workloadYaml(w.id, { min: w.min, max: w.max, healthInterval: opts.healthInterval ?? "500ms" }));
  }
  const probes: Probe[] = [];
  const apps: string[] = [];
  const tars = await Promise.all(APPS.map((a) => tarOf(a.dir, true)));
  for (let i = 0; i < opts.apps; i++) {
    const name = `app-${i}`;
    const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: tars[i % APPS.length] });
    if (res.status !== 202) throw new Error(`upload of ${name}: ${res.status} ${await res.text()}`);
    apps.push(name);
    probes.push(appProbe(kiln.publicPort, name, APPS[i % APPS.length]!.expect));
  }
  for (const name of apps) {
    const d = await kiln.waitFor(name, ["running", "failed"], 300_000);
    if (d.status !== "running") throw new Error(`${name} did not deploy: ${d.failureReason}`);
  }
  const pools = opts.workloads.map((w) => poolProbe(kiln.api, kiln.instanceId, w.id));
  await expectAll(pools, 120_000, "warm pools");

  const tenants: Scene["tenants"] = [];
  for (const w of opts.workloads) {
    for (let i = 0; i < w.claims; i++) {
      const tenant = `t${i}`;
      const dir = join(kiln.config.dataDir, "tenants", w.id, tenant);
      mkdirSync(join(dir, "secrets"), { recursive: true });
      writeFileSync(join(dir, "secrets/key"), `secret-of-${tenant}-${w.id}`);
      const res = await kiln.api(`/tenants/${tenant}/claim`, { method: "POST", body: JSON.stringify({ workload: w.id }), headers: { "content-type": "application/json" } });
      if (res.status !== 200) throw new Error(`claim of ${tenant} on ${w.id}: ${res.status} ${await res.text()}`);
      await res.json();
      // the tenant's own container writes its state file (/state/hits) through its URL
      const wrote = await fetch(`http://127.0.0.1:${kiln.publicPort}/write`, { headers: { host: `${tenant}.${w.id}.localhost` } });
      if (wrote.status !== 200) throw new Error(`tenant ${tenant}.${w.id} did not answer /write: ${wrote.status}`);
      await wrote.text();
      const hits = readFileSync(join(dir, "state/hits"), "utf8").trim();
      tenants.push({ workload: w.id, tenant });
      probes.push(tenantProbe(kiln.publicPort, w.id, tenant, [`hits=${hits}`, `secret=secret-of-${tenant}-${w.id}`]));
    }
  }
  probes.push(...pools);
  await expectAll(probes, 120_000, "the scene before the fault");
  return { apps, tenants, probes };
}

async function expectAll(probes: Probe[], deadlineMs: number, what: string): Promise<void> {
  const seen = await watchRecovery(probes, { deadlineMs });
  const missing = Object.entries(seen).filter(([, t]) => t === null).map(([l]) => l);
  if (missing.length) throw new Error(`${what}: never answered: ${missing.join(", ")}`);
}

/**
 * The processes Kiln supervises besides the engine's containers: Caddy (the ingress) and the tenant
 * resolver (where a tenant's requests go). Each is killed with SIGKILL under a running Kiln with an
 * app and a claimed tenant, then both at once; each time a new process takes over and the app and
 * the tenant (with its state and secret) answer again at their URLs. The time each took is printed,
 * not asserted; the deadline is generous.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { queryDns } from "../../src/adapters/dns/client.ts";
import { RTYPE } from "../../src/formats/dns-wire.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { phaseLines, watchRecovery } from "../helpers/recovery.ts";
import { liveScene, type Scene } from "../helpers/recovery-scene.ts";
import { until } from "../helpers/wait.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

const DEADLINE_MS = 60_000;
let kiln: TestKiln;
let scene: Scene;

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  kiln = await startTestKiln();
  scene = await liveScene(kiln, { apps: 1, workloads: [{ id: "sup", min: 1, max: 2, claims: 1 }] });
}, 600_000);

afterAll(async () => {
  for (const t of scene?.tenants ?? []) {
    await kiln.api(`/tenants/${t.tenant}/release`, { method: "POST", body: JSON.stringify({ workload: t.workload }), headers: { "content-type": "application/json" } }).then((r) => r.text(), () => "");
  }
  await kiln?.stop();
}, 120_000);

/** Running (a zombie waiting to be reaped counts as gone). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
};
const caddyPid = (): number | null => {
  const pids = Bun.spawnSync(["pgrep", "-f", join(kiln.config.dataDir, "caddy")]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
  return pids.length === 1 ? pids[0]! : null;
};
const resolverPid = (): number | null => {
  try {
    return JSON.parse(readFileSync(join(kiln.config.dataDir, "tenant-resolver.json"), "utf8")).pid as number;
  } catch {
    return null;
  }
};

interface Victim {
  name: string;
  pid(): number | null;
  /** The new process does its job (checked once it runs). */
  serves?(): Promise<void>;
}

/**
 * SIGKILL each process, wait for the app and tenant to answer again through Caddy, and for new
 * processes in their place that do their job (Caddy may answer a tenant from its cached lookup
 * while the resolver is down, so the new resolver is asked directly).
 */
async function killAndRecover(what: string, victims: Victim[]): Promise<void> {
  const before = victims.map((v) => ({ ...v, old: v.pid() }));
  for (const v of before) expect(v.old !== null && alive(v.old)).toBe(true);
  const killedAt = Date.now();
  for (const v of before) process.kill(v.old!, "SIGKILL");
  for (const v of before) await until(`${v.name} (pid ${v.old}) to die`, async () => !alive(v.old!), 10_000);
  const seen = await watchRecovery(scene.probes, { deadlineMs: DEADLINE_MS });
  console.log([`${what} killed (SIGKILL); from the kill:`, ...phaseLines(seen, killedAt)].join("\n"));
  expect(Object.entries(seen).filter(([, t]) => t === null).map(([label]) => label)).toEqual([]);
  for (const v of before) {
    const now = await until(`a new ${v.name}`, async () => {
      const pid = v.pid();
      return pid !== null && pid !== v.old && alive(pid) ? pid : null;
    }, 10_000);
    expect(now).not.toBe(v.old);
    await v.serves?.();
  }
}

const caddy = { name: "Caddy", pid: caddyPid };
const resolver: Victim = {
  name: "the tenant resolver",
  pid: resolverPid,
  async serves() {
    const { address } = JSON.parse(readFileSync(join(kiln.config.dataDir, "tenant-resolver.json"), "utf8")) as { address: string };
    const t = scene.tenants[0]!;
    const answer = await queryDns(address, `${t.tenant}.${t.workload}.${kiln.config.publicHost}`, RTYPE.SRV);
    expect(answer.srv.length).toBe(1);
  },
};

test("Caddy killed: it is restarted, and the app and the tenant answer again", async () => {
  await killAndRecover("Caddy", [caddy]);
}, DEADLINE_MS + 30_000);

test("the tenant resolver killed: it is restarted, and the tenant answers again with its state", async () => {
  await killAndRecover("the tenant resolver", [resolver]);
}, DEADLINE_MS + 30_000);

test("Caddy and the tenant resolver killed at once: both come back, and everything answers again", async () => {
  await killAndRecover("Caddy and the tenant resolver", [caddy, resolver]);
}, DEADLINE_MS + 30_000);

/**
 * KILN_ENGINE=swarm: a Swarm app's output reaches the deployment's stored log (read back through
 * the log search API), each line once and in order; a Kiln stopped mid-stream and started again on
 * the same data directory resumes from its stored marks — the lines the app wrote while Kiln was down
 * are there, none twice, none missing; a redeploy (the same service, a new task) keeps them flowing.
 * The app prints "<VERSION> tick <n>" on stdout every 50 ms and "<VERSION> err <n>" on stderr every
 * tenth tick. One app, one replica; the tests run in order. Every request goes to 127.0.0.1.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SwarmClient } from "../../src/adapters/swarm/client.ts";
import { loadConfig } from "../../src/config.ts";
import { startKiln, type Kiln } from "../../src/main.ts";
import { tarOf } from "../helpers/kiln.ts";
import { TEST_NETWORK } from "../helpers/network.ts";
import { freePort } from "../helpers/ports.ts";
import { until } from "../helpers/wait.ts";
import { ensureSwarm } from "./swarm-node.ts";

const NAME = "ticker";
const dataDir = mkdtempSync(join(tmpdir(), "kiln-swarm-logs-"));
const env = {
  KILN_DATA_DIR: dataDir,
  KILN_API_PORT: String(freePort()),
  KILN_PUBLIC_PORT: String(freePort()),
  KILN_PUBLIC_LISTEN: "127.0.0.1",
  KILN_CADDY_ADMIN: `http://127.0.0.1:${freePort()}`,
  KILN_DOCKER_NETWORK: TEST_NETWORK,
  KILN_WORKLOADS_DIR: join(dataDir, "workloads"),
  KILN_READY_TIMEOUT_S: "30",
  KILN_ENGINE: "swarm",
  KILN_REGISTRY_PORT: String(freePort()),
  KILN_SWARM_NETWORK: "kiln-swarm-logs",
};
let kiln: Kiln;
let swarm: SwarmClient;
let id: string;

const api = (path: string, init: RequestInit = {}) => fetch(`${kiln.apiUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${kiln.token}`, ...(init.headers ?? {}) } });

async function tickerTar(): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "kiln-swarm-ticker-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: NAME, version: "1.0.0", scripts: { start: "node server.js" } }));
    writeFileSync(
      join(dir, "server.js"),
      `const http = require("node:http");
const v = process.env.VERSION;
let n = 0;
setInterval(() => {
  n++;
  console.log(v + " tick " + n);
  if (n % 10 === 0) console.error(v + " err " + n);
}, 50);
const server = http.createServer((req, res) => res.end("ok\\n"));
server.listen(Number(process.env.PORT || 3000), "0.0.0.0");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`,
    );
    return await tarOf(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every stored runtime line of the deployment, oldest first (the search API pages newest first). */
async function stored(): Promise<string[]> {
  const out: string[] = [];
  let cursor: number | null = null;
  for (;;) {
    const res = await api(`/deployments/${id}/logs?stream=runtime&limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { lines: { text: string }[]; next: number | null };
    out.push(...page.lines.map((l) => l.text));
    if (page.next === null) return out.reverse();
    cursor = page.next;
  }
}

/** The numbers of `<version> <kind> <n>` lines, in stored order. */
function numbers(lines: string[], version: string, kind: "tick" | "err"): number[] {
  const prefix = `${version} ${kind} `;
  return lines.filter((l) => l.startsWith(prefix)).map((l) => Number(l.slice(prefix.length)));
}

/** Each of first..last exactly once, in order: no gap, no duplicate. */
function expectRun(ns: number[], first: number, step = 1): void {
  expect(ns.length).toBeGreaterThan(0);
  expect(ns).toEqual(Array.from({ length: ns.length }, (_, k) => first + k * step));
}

/** The highest tick the app has written, as the engine keeps its task's output. */
async function engineTick(version: string): Promise<number> {
  let max = 0;
  await swarm.serviceLogs(`kiln-${NAME}-${id}`, {
    follow: false,
    since: BigInt(Date.now() - 5000) * 1_000_000n,
    signal: AbortSignal.timeout(10_000),
    onEntry: (e) => {
      const m = e.text.startsWith(`${version} tick `) ? Number(e.text.slice(version.length + 6)) : 0;
      if (m > max) max = m;
    },
  });
  return max;
}

beforeAll(async () => {
  swarm = await ensureSwarm();
  kiln = await startKiln(loadConfig(env), { quiet: true });
  const res = await api(`/deployments/upload?name=${NAME}`, {
    method: "POST",
    body: await tickerTar(),
    headers: { "Kiln-Env": JSON.stringify({ VERSION: "v1" }), "Kiln-Settings": JSON.stringify({ replicas: 1, healthcheck: { path: "/", startPeriod: 20 } }) },
  });
  expect(res.status).toBe(202);
  id = ((await res.json()) as { id: string }).id;
  await until("the first deploy", async () => {
    const d = (await (await api(`/deployments/${id}`)).json()) as { status: string; failureReason: string | null };
    if (d.status === "failed") throw new Error(`deploy failed: ${d.failureReason}`);
    return d.status === "running";
  }, 240_000);
}, 300_000);

afterAll(async () => {
  if (kiln) {
    for (const d of await kiln.service.list()) await kiln.service.remove(d.id, { volumes: true }).catch(() => {});
    await kiln.stop();
    for (const c of await kiln.runtime.listContainers({ "kiln.instance": kiln.instanceId })) await kiln.runtime.removeContainer(c.id);
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

test("the task's output is in the deployment's stored log, in order, each line once (stdout and stderr)", async () => {
  const lines = await until("60 ticks stored", async () => {
    const all = await stored();
    return numbers(all, "v1", "tick").length >= 60 && all;
  }, 60_000);
  expectRun(numbers(lines, "v1", "tick"), 1);
  expectRun(numbers(lines, "v1", "err"), 10, 10);
}, 90_000);

test("a Kiln restarted mid-stream resumes after its last stored line: what the app wrote meanwhile is there, none twice", async () => {
  const before = numbers(await stored(), "v1", "tick");
  await kiln.stop();
  const stoppedAt = before.at(-1)!;
  // Kiln is down; the task goes on printing (Swarm runs it). Wait until it is well past what was stored.
  await until("the app to print 40 ticks while Kiln is down", async () => (await engineTick("v1")) >= stoppedAt + 40, 30_000);
  kiln = await startKiln(loadConfig(env), { quiet: true });
  const downTo = await engineTick("v1");
  const lines = await until("the ticks written while Kiln was down, and later ones, stored", async () => {
    const all = await stored();
    return numbers(all, "v1", "tick").at(-1)! >= downTo + 20 && all;
  }, 60_000);
  const ticks = numbers(lines, "v1", "tick");
  expectRun(ticks, 1);
  expect(ticks.length).toBeGreaterThan(downTo);
  expectRun(numbers(lines, "v1", "err"), 10, 10);
  // The lines stored before the restart are the same lines, not stored again.
  expect(ticks.slice(0, before.length)).toEqual(before);
}, 120_000);

test("a redeploy keeps the same service, and its new task's lines flow on", async () => {
  const service = `kiln-${NAME}-${id}`;
  const serviceId = (await swarm.inspectService(service))!.id;
  const change = await api(`/deployments/${id}/env?wait=true`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ set: { VERSION: "v2" } }) });
  expect(change.status).toBe(200);
  expect((await swarm.inspectService(service))!.id).toBe(serviceId);
  const lines = await until("40 v2 ticks stored", async () => {
    const all = await stored();
    return numbers(all, "v2", "tick").length >= 40 && all;
  }, 60_000);
  expectRun(numbers(lines, "v2", "tick"), 1);
  expectRun(numbers(lines, "v1", "tick"), 1); // the old task's lines up to its stop, still each once
  expectRun(numbers(lines, "v2", "err"), 10, 10);
}, 150_000);

/**
 * Control-plane footprint (issue 14): Kiln as its own process holding 50 deployed apps
 * (examples/hello-node) and a pool of 100 warm members, then left idle for 30 s. Prints Kiln's RSS
 * and CPU (% of one core over the window) and the tenant resolver's, beside the goals, and the RSS
 * of an idle `bun -e "setInterval(()=>{},1000)"` from the same run (what the runtime alone costs).
 *
 *   bun bench/footprint.bench.ts [--apps 50] [--members 100] [--idle 30] [--smol] [--heap] [--bin dist/kiln]
 *
 * `--bin`: run a compiled Kiln (scripts/build-binary.sh) instead of `bun bin/kiln`: what a release runs.
 * `--smol`: run Kiln as `bun --smol` (a smaller JS heap, collected more often), to compare.
 * `--heap`: run Kiln through bench/kiln-heap-probe.ts and print what its JS heap holds at the end
 * of the idle window (the object types with the most instances, before and after a full GC).
 *
 * Everything is bounded (setup ≤ 3 min, idle, teardown ≤ 80 s, a 5 min watchdog) and removed
 * afterwards: deployments deleted with their volumes, the pool's workload removed so Kiln drains
 * its members, Kiln stopped, then anything still labelled with this Kiln's instance id.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { kilnProcess } from "../test/helpers/kiln-process.ts";
import { tarOf } from "../test/helpers/kiln.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE, writeWorkload } from "../test/helpers/workloads.ts";
import { cpuPercent, cpuTicks, mib, parentPid, rss, type Rss } from "./proc-stats.ts";

const arg = (name: string, dflt: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const APPS = arg("--apps", 50);
const MEMBERS = arg("--members", 100);
const IDLE_MS = arg("--idle", 30) * 1000;
const SMOL = process.argv.includes("--smol");
const HEAP = process.argv.includes("--heap");
const BIN = process.argv.includes("--bin") ? resolve(process.argv[process.argv.indexOf("--bin") + 1]!) : null;
if (BIN && (HEAP || SMOL)) throw new Error("--heap and --smol run Kiln from source: not with --bin");
const SETTLE_MS = 5_000;
const SETUP_LIMIT_MS = 180_000;
const WATCHDOG_MS = 300_000;
const GOAL = { kilnRssMib: 80, kilnCpuPct: 1 };
const HELLO = join(import.meta.dir, "../examples/hello-node");
const WORKLOAD = "footprint";

const SOCKET = "/var/run/docker.sock";
const engine = (path: string, init: RequestInit = {}) => fetch(`http://docker/v1.41${path}`, { ...init, unix: SOCKET, signal: AbortSignal.timeout(30_000) } as RequestInit);
const labelFilter = (labels: string[]) => encodeURIComponent(JSON.stringify({ label: labels }));

/**
 * The pool's workload: the test workloads' image (the smallest they use), running busybox httpd
 * instead of node, with no Docker healthcheck: ready once running, and no health-probe execs
 * (each would be an event on Kiln's event stream) during the idle window.
 */
const workloadYaml = [
  `id: ${WORKLOAD}`,
  `image: ${WORKLOAD_IMAGE}`,
  'command: ["busybox", "httpd", "-f", "-p", "8080", "-h", "/"]',
  'user: "1000:1000"',
  "ports: [8080]",
  "pool:",
  `  min_size: ${MEMBERS}`,
  `  max_size: ${MEMBERS}`,
  "  idle_timeout: 1h",
].join("\n");

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const say = (line: string) => console.log(`[${elapsed()}] ${line}`);

/** Poll until `probe` gives something truthy, at most until `deadline` (epoch ms). */
async function until<T>(what: string, deadline: number, probe: () => Promise<T | null | undefined | false>, everyMs = 500): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

const k = kilnProcess("kiln-footprint");
Object.assign(k.env, { KILN_BUILD_CONCURRENCY: "4", KILN_POOL_CONCURRENCY: "16", KILN_READY_TIMEOUT_S: "60" });
let kiln: Subprocess | null = null;
let baseline: Subprocess | null = null;
let resolverPid: number | null = null;
let instanceId: string | null = null;
const deploymentIds: string[] = [];

const watchdog = setTimeout(() => {
  console.error(`footprint bench: over ${WATCHDOG_MS / 1000} s, killing what it started`);
  kiln?.kill("SIGKILL");
  baseline?.kill("SIGKILL");
  process.exit(1);
}, WATCHDOG_MS);

async function deployApps(deadline: number): Promise<void> {
  const tar = await tarOf(HELLO, true);
  for (let i = 0; i < APPS; i++) {
    const name = `fp-${String(i).padStart(2, "0")}`;
    const res = await k.api(`/deployments/upload?name=${name}`, { method: "POST", body: tar });
    if (res.status !== 202) throw new Error(`upload of ${name}: ${res.status} ${await res.text()}`);
    deploymentIds.push(((await res.json()) as { id: string }).id);
  }
  await until(`${APPS} apps running`, deadline, async () => {
    const list = ((await (await k.api("/deployments")).json()) as { deployments: { name: string; status: string }[] }).deployments;
    const failed = list.filter((d) => d.status === "failed" || d.status === "crashlooping");
    if (failed.length > 0) throw new Error(`deployments failed: ${failed.map((d) => `${d.name} ${d.status}`).join(", ")}`);
    return list.filter((d) => d.name.startsWith("fp-") && d.status === "running").length === APPS;
  });
}

async function warmPool(deadline: number): Promise<void> {
  writeWorkload(k.env.KILN_WORKLOADS_DIR!, WORKLOAD, workloadYaml);
  await until(`${MEMBERS} ready members`, deadline, async () => {
    const pools = ((await (await k.api("/pools")).json()) as { pools: { workload: string; counts: { ready: number } }[] }).pools;
    return (pools.find((p) => p.workload === WORKLOAD)?.counts.ready ?? 0) >= MEMBERS;
  });
}

interface Sample {
  rss: Rss;
  maxRssKb: number;
  cpuPct: number;
}

/** Sample each pid's RSS every second over `ms`, and its CPU over the whole window. */
async function idleWindow(pids: number[], ms: number): Promise<Sample[]> {
  const t0 = performance.now();
  const ticks0 = pids.map(cpuTicks);
  const maxKb = pids.map(() => 0);
  while (performance.now() - t0 < ms) {
    pids.forEach((p, i) => (maxKb[i] = Math.max(maxKb[i]!, rss(p).totalKb)));
    await Bun.sleep(Math.min(1000, Math.max(0, ms - (performance.now() - t0))));
  }
  const window = performance.now() - t0;
  return pids.map((p, i) => ({ rss: rss(p), maxRssKb: Math.max(maxKb[i]!, rss(p).totalKb), cpuPct: cpuPercent(ticks0[i]!, cpuTicks(p), window) }));
}

const f1 = (n: number) => n.toFixed(1);
const missBy = (value: number, goal: number, unit: string) => (value <= goal ? `meets the goal (${f1(goal - value)} ${unit} to spare)` : `MISSES by ${f1(value - goal)} ${unit} (${f1(value / goal)}x the goal)`);
const parts = (r: Rss) => `anon ${f1(mib(r.anonKb))} + file ${f1(mib(r.fileKb))} + shmem ${f1(mib(r.shmemKb))} MiB`;

function report(kilnS: Sample, resolverS: Sample, baseS: Sample): void {
  const kRss = mib(kilnS.rss.totalKb);
  const bRss = mib(baseS.rss.totalKb);
  console.log(`\ncontrol-plane footprint: ${APPS} apps running, ${MEMBERS} warm pool members, idle ${IDLE_MS / 1000} s; kiln run as ${BIN ?? "bun bin/kiln"}${SMOL ? " with --smol" : ""}`);
  console.log(`  kiln      RSS ${f1(kRss)} MiB (max ${f1(mib(kilnS.maxRssKb))})   goal ≤ ${GOAL.kilnRssMib} MiB: ${missBy(kRss, GOAL.kilnRssMib, "MiB")}`);
  console.log(`            ${parts(kilnS.rss)}; PSS ${f1(mib(kilnS.rss.pssKb))}, private ${f1(mib(kilnS.rss.privateKb))} MiB`);
  console.log(`  kiln      CPU ${kilnS.cpuPct.toFixed(2)}% of a core   goal ≤ ${GOAL.kilnCpuPct}%: ${missBy(kilnS.cpuPct, GOAL.kilnCpuPct, "points")}`);
  console.log(`  resolver  RSS ${f1(mib(resolverS.rss.totalKb))} MiB (max ${f1(mib(resolverS.maxRssKb))})   goal: as small as it can be made; ${f1(mib(resolverS.rss.totalKb) - bRss)} MiB above the bare runtime`);
  console.log(`            ${parts(resolverS.rss)}; PSS ${f1(mib(resolverS.rss.pssKb))}, private ${f1(mib(resolverS.rss.privateKb))} MiB`);
  console.log(`  resolver  CPU ${resolverS.cpuPct.toFixed(2)}% of a core`);
  console.log(`  baseline  bun -e "setInterval(()=>{},1000)": RSS ${f1(bRss)} MiB (${parts(baseS.rss)}), CPU ${baseS.cpuPct.toFixed(2)}%`);
  console.log(`  kiln above the bare runtime: ${f1(kRss - bRss)} MiB (anon ${f1(mib(kilnS.rss.anonKb - baseS.rss.anonKb))}, file ${f1(mib(kilnS.rss.fileKb - baseS.rss.fileKb))}); the runtime alone is ${f1((bRss / GOAL.kilnRssMib) * 100)}% of the RSS goal`);
}

/** The file's JSON, or null while it is missing or half written. */
function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

/** Ask the probe for Kiln's heap twice: as it is, then after a full collection. */
async function printHeap(proc: Subprocess): Promise<void> {
  for (const gc of [false, true]) {
    const path = join(k.dataDir, "heap.json");
    rmSync(path, { force: true });
    writeFileSync(join(k.dataDir, "probe-gc"), gc ? "1" : "0");
    proc.kill("SIGUSR2");
    // Read afresh each time (a Bun.file remembers the size it first saw).
    const h = await until("heap.json", Date.now() + 10_000, async () => readJson(path), 200);
    const m = h.memory;
    console.log(`\nkiln heap${gc ? " after a full GC" : ""}: heapSize ${f1(h.heapSize / 2 ** 20)} MiB (capacity ${f1(h.heapCapacity / 2 ** 20)}, extra ${f1(h.extraMemorySize / 2 ** 20)}), ${h.objectCount} objects; memoryUsage rss ${f1(m.rss / 2 ** 20)} heapUsed ${f1(m.heapUsed / 2 ** 20)} heapTotal ${f1(m.heapTotal / 2 ** 20)} external ${f1(m.external / 2 ** 20)} MiB`);
    console.log(`  most instances: ${(h.top as [string, number][]).map(([t, n]) => `${t} ${n}`).join(", ")}`);
    const kib = (pairs: [string, number][]) => pairs.map(([t, n]) => `${t} ${f1(n / 1024)}`).join(", ");
    console.log(`  most bytes (KiB): ${kib(h.topBytes)}`);
    console.log(`  largest objects (KiB): ${kib(h.largest) || "none of 64 KiB or more"}`);
  }
}

async function teardown(): Promise<void> {
  const deadline = Date.now() + 60_000;
  if (kiln && kiln.exitCode === null) {
    // Delete in small batches: each delete stops a container and removes its image.
    for (let i = 0; i < deploymentIds.length; i += 10) {
      await Promise.all(deploymentIds.slice(i, i + 10).map((id) => k.api(`/deployments/${id}?volumes=true`, { method: "DELETE", signal: AbortSignal.timeout(30_000) }).then((r) => r.text(), (e) => say(`delete ${id}: ${e}`))));
    }
    // A removed workload's members are drained by Kiln (they outlive a stopped Kiln otherwise).
    await Bun.file(join(k.env.KILN_WORKLOADS_DIR!, `${WORKLOAD}.yaml`)).delete().catch(() => {});
    if (instanceId) {
      await until("the pool to drain", deadline, async () => (await leftovers("containers", ["kind=pool-member"])).length === 0, 1000).catch((e) => say(String(e)));
    }
    kiln.kill("SIGTERM");
    if ((await Promise.race([kiln.exited, Bun.sleep(15_000).then(() => "late")])) === "late") kiln.kill("SIGKILL");
  }
  baseline?.kill("SIGKILL");
  if (resolverPid !== null && Bun.spawnSync(["kill", "-0", String(resolverPid)]).exitCode === 0) process.kill(resolverPid, "SIGTERM");
  if (instanceId) {
    const left = { containers: await leftovers("containers"), volumes: await leftovers("volumes"), images: await leftovers("images") };
    for (const c of left.containers) await (await engine(`/containers/${c}?force=1&v=1`, { method: "DELETE" })).text();
    for (const v of left.volumes) await (await engine(`/volumes/${v}?force=1`, { method: "DELETE" })).text();
    for (const img of left.images) await (await engine(`/images/${img}?force=1`, { method: "DELETE" })).text();
    say(`cleanup: removed leftovers: ${left.containers.length} containers, ${left.volumes.length} volumes, ${left.images.length} images`);
  }
  k.cleanup();
}

/** Ids (names for volumes) of what still carries this Kiln's instance label. */
async function leftovers(kind: "containers" | "volumes" | "images", more: string[] = []): Promise<string[]> {
  const labels = [`kiln.instance=${instanceId}`, ...more.map((m) => `kiln.${m}`)];
  const path = kind === "containers" ? `/containers/json?all=1&filters=${labelFilter(labels)}` : `/${kind}${kind === "images" ? "/json" : ""}?filters=${labelFilter(labels)}`;
  const body = (await (await engine(path)).json()) as any;
  return kind === "volumes" ? ((body.Volumes ?? []) as { Name: string }[]).map((v) => v.Name) : (body as { Id: string }[]).map((x) => x.Id);
}

try {
  await ensureWorkloadImage();
  const cmd = BIN ? [BIN, "serve"] : ["bun", ...(SMOL ? ["--smol"] : []), HEAP ? "bench/kiln-heap-probe.ts" : "bin/kiln", "serve"];
  kiln = await k.serve({ cmd, output: join(k.dataDir, "kiln.log"), timeoutMs: 20_000 });
  instanceId = (await Bun.file(join(k.dataDir, "instance-id")).text()).trim();
  say(`kiln pid ${kiln.pid} up (data dir ${k.dataDir})`);
  const setupDeadline = Date.now() + SETUP_LIMIT_MS;
  await deployApps(setupDeadline);
  say(`${APPS} apps running`);
  await warmPool(setupDeadline);
  say(`${MEMBERS} pool members ready`);

  resolverPid = (JSON.parse(await Bun.file(join(k.dataDir, "tenant-resolver.json")).text()) as { pid: number }).pid;
  if (parentPid(resolverPid) !== kiln.pid) throw new Error(`resolver pid ${resolverPid} is not a child of Kiln (${kiln.pid}): its parent is ${parentPid(resolverPid)}`);
  baseline = Bun.spawn(["bun", "-e", "setInterval(()=>{},1000)"], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  say(`resolver pid ${resolverPid}; baseline bun pid ${baseline.pid}; settling ${SETTLE_MS / 1000} s, then idle ${IDLE_MS / 1000} s`);
  await Bun.sleep(SETTLE_MS);
  const [kilnS, resolverS, baseS] = await idleWindow([kiln.pid, resolverPid, baseline.pid], IDLE_MS);
  report(kilnS!, resolverS!, baseS!);
  if (HEAP) await printHeap(kiln);
} catch (err) {
  console.error(`footprint bench failed: ${err instanceof Error ? err.message : err}`);
  const log = await Bun.file(join(k.dataDir, "kiln.log")).text().catch(() => "");
  console.error(`last lines of Kiln's log:\n${log.trim().split("\n").slice(-20).join("\n")}`);
  process.exitCode = 1;
} finally {
  await teardown().catch((e) => console.error(`cleanup failed: ${e}`));
  clearTimeout(watchdog);
  say("done");
}

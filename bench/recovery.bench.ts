/**
 * Recovery from a Docker engine restart at scale: a test Kiln with N apps (default 10) and pool
 * members (default 2 workloads × min_size 8, 2 tenants claimed in each: 20 members), then dockerd
 * stopped with SIGTERM and started again. Prints the time from dockerd answering again to every app
 * answering through Caddy, every claimed tenant answering at its URL with its state and secret, and
 * every pool back at min_size with members the engine runs healthy — with the per-phase breakdown,
 * and whether the goal (≤ 30 s from the engine answering again to everything answering) is met.
 *
 * Restarts the machine's real dockerd: without live-restore that stops EVERY container on the
 * machine. Run it alone. It always leaves an engine answering.
 *
 *   bun bench/recovery.bench.ts [--apps 10] [--workloads 2] [--min 8] [--claims 2] [--health 1s] [--deadline 180]
 */
import { ensureDockerd, liveRestoreEnabled, restartDockerd } from "../test/helpers/dockerd.ts";
import { startTestKiln } from "../test/helpers/kiln.ts";
import { engineEventMarks, phaseLines, recoveryDiagnosis, tenantLogTail, watchRecovery } from "../test/helpers/recovery.ts";
import { liveScene, type Scene } from "../test/helpers/recovery-scene.ts";
import { ensureWorkloadImage } from "../test/helpers/workloads.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const APPS = Number(arg("apps", "10"));
const WORKLOADS = Number(arg("workloads", "2"));
const MIN = Number(arg("min", "8"));
const CLAIMS = Number(arg("claims", "2"));
// 20 members probing every 300 ms keep both cores busy (see claims.bench.ts); Docker 20.10 probes first after one interval
const HEALTH = arg("health", "1s");
const DEADLINE_MS = Number(arg("deadline", "180")) * 1000;
const GOAL_MS = 30_000;

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const latest = (marks: Record<string, number | null>, prefix: string) => {
  const ts = Object.entries(marks).filter(([l]) => l.startsWith(prefix)).map(([, t]) => t);
  return ts.some((t) => t === null) ? null : Math.max(...(ts as number[]));
};

await ensureWorkloadImage();
const kiln = await startTestKiln({ KILN_READY_TIMEOUT_S: "120" }); // 10 cold deploys at once on 2 cores
let scene: Scene | null = null;
try {
  const t0 = Date.now();
  const workloads = Array.from({ length: WORKLOADS }, (_, i) => ({ id: `bench${i}`, min: MIN, max: MIN + CLAIMS + 2, claims: CLAIMS }));
  scene = await liveScene(kiln, { apps: APPS, workloads, healthInterval: HEALTH });
  const members = WORKLOADS * (MIN + CLAIMS);
  console.log(`set up in ${s(Date.now() - t0)}: ${APPS} apps, ${members} members (${WORKLOADS} workloads × min_size ${MIN} + ${CLAIMS} claimed each), health every ${HEALTH}`);

  const liveRestore = await liveRestoreEnabled();
  const kilnSaw = engineEventMarks(kiln);
  const r = await restartDockerd();
  const seen = await watchRecovery(scene.probes, { deadlineMs: DEADLINE_MS, everyMs: 250 });
  kilnSaw.off();

  const apps = latest(seen, "app ");
  const tenants = latest(seen, "tenant ");
  const pools = latest(seen, "pool ");
  const all = Object.values(seen).some((t) => t === null) ? null : Math.max(...(Object.values(seen) as number[]));
  const since = (t: number | null) => (t === null ? `NOT within ${s(DEADLINE_MS)}` : s(t - r.answeringAt));
  console.log(
    [
      `dockerd restart (live-restore ${liveRestore ? "on" : "off"}), ${APPS} apps, ${members} members:`,
      `  SIGTERM → dockerd exited           ${s(r.exitedAt - r.stoppedAt)}`,
      `  exited → answering /_ping          ${s(r.answeringAt - r.exitedAt)}`,
      `  answering → every app answers      ${since(apps)}`,
      `  answering → every tenant answers   ${since(tenants)}`,
      `  answering → every pool at min_size ${since(pools)}`,
      `  answering → all of it              ${since(all)}`,
      `goal ≤ ${s(GOAL_MS)} from the engine answering again: ${all !== null && all - r.answeringAt <= GOAL_MS ? "MET" : "NOT MET"}`,
      "each, from the engine answering again:",
      ...phaseLines({ ...kilnSaw.marks, ...seen }, r.answeringAt),
    ].join("\n"),
  );
  if (all === null) {
    console.log(`apps, pool members and tenants at the deadline:\n${await recoveryDiagnosis(kiln.api)}`);
    for (const t of scene.tenants) console.log(`  tenant ${t.tenant}.${t.workload}'s log:\n${await tenantLogTail(kiln.apiUrl, kiln.token, t.workload, t.tenant)}`);
  }
} finally {
  await ensureDockerd();
  for (const t of scene?.tenants ?? []) {
    await kiln.api(`/tenants/${t.tenant}/release`, { method: "POST", body: JSON.stringify({ workload: t.workload }), headers: { "content-type": "application/json" } }).then((res) => res.text(), () => "");
  }
  await kiln.stop();
}

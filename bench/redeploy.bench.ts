/**
 * Redeploy benchmark: zero-downtime swaps and rollback speed, against a real Kiln (engine and Caddy).
 * One git app (test/fixtures/apps/day-two) served by a local git daemon, 8 keep-alive clients through
 * Caddy (one request in ten `/slow?ms=1500`) during:
 *   phase A — Kiln's swap: N redeploys (the last one of a new commit, so the two latest releases
 *             differ), then N rollbacks (default target: the release before the serving one, so they
 *             alternate), each timed from the request to the first GET through Caddy answering the
 *             target release's VERSION;
 *   phase B — the baseline (stop, then start): N × POST …/stop then POST …/redeploy until running.
 * Prints failed requests A vs B (a failure is any non-200 or network error; the client then waits
 * 10 ms), the outage per change (first to last failed request), requests served, rollback
 * p50/p99/max and wall time beside the goals (0 failed requests in phase A, rollback p99 ≤ 1000 ms).
 * Loopback only; every loop bounded in count and time.
 *
 *   bun bench/redeploy.bench.ts            (BENCH_N=3 for a quick run; default 20)
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../test/helpers/kiln.ts";
import { commitFiles, makeRepo, startGitDaemon, type GitDaemon } from "../test/helpers/git-daemon.ts";

const N = Math.max(1, Number(process.env.BENCH_N ?? 20) || 20);
const CLIENTS = 8;
const SLOW_MS = 1500;
const APP = "rdbench";
const FIXTURE = join(import.meta.dir, "../test/fixtures/apps/day-two");
const PHASE_CAP_MS = 10 * 60_000; // hard cap on each phase's load
const REQUEST_CAP = 1_000_000; // hard cap on each phase's requests
const FAILURE_BACKOFF_MS = 10; // a client that got a failure waits this long, so a 404 loop does not starve the machine
const REQUEST_TIMEOUT_MS = 30_000;
const STEP_LIMIT_MS = 180_000; // one redeploy / rollback / stop-start
const TAIL_MS = 2_500; // after the last change: the last drain's slow requests finish under load too
const GOAL_ROLLBACK_P99_MS = 1000;

interface Failure { t: number; kind: string }
interface Mark { t: number; label: string }
interface Load { ok: number; failures: Failure[]; marks: Mark[]; mark(label: string): void; stop(): void; done: Promise<void>; t0: number }

const json = (body: unknown, method = "POST") => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const ms = (x: number) => `${Math.round(x)} ms`;
const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function fixtureFiles(version: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(FIXTURE)) files[f] = readFileSync(join(FIXTURE, f), "utf8");
  files.VERSION = `${version}\n`;
  return files;
}

/** A GET through Caddy with a deadline; never throws. */
async function get(kiln: TestKiln, path: string): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${kiln.publicPort}${path}`, {
      headers: { host: `${APP}.localhost:${kiln.publicPort}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    return { error: e.name === "TimeoutError" ? "timeout" : (e.code ?? e.message ?? String(err)) };
  }
}

/** CLIENTS keep-alive loops through Caddy until `stop()` (or the caps); every non-200 or error is a failure. */
function startLoad(kiln: TestKiln): Load {
  const t0 = performance.now();
  let stopped = false;
  let requests = 0;
  const load = {
    ok: 0,
    failures: [] as Failure[],
    marks: [] as Mark[],
    t0,
    mark: (label: string) => load.marks.push({ t: performance.now() - t0, label }),
    stop: () => void (stopped = true),
    done: Promise.resolve(),
  };
  const deadline = t0 + PHASE_CAP_MS;
  load.done = Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; !stopped && performance.now() < deadline && requests < REQUEST_CAP; i++) {
        requests++;
        const path = (i + c) % 10 === 0 ? `/slow?ms=${SLOW_MS}` : "/";
        const r = await get(kiln, path);
        if ("status" in r && r.status === 200) load.ok++;
        else {
          load.failures.push({ t: performance.now() - t0, kind: `${path.startsWith("/slow") ? "/slow" : "/"} → ${"status" in r ? `HTTP ${r.status}${r.body ? ` "${r.body.slice(0, 60).trim()}"` : ""}` : r.error}` });
          await Bun.sleep(FAILURE_BACKOFF_MS);
        }
      }
    }),
  ).then(() => {});
  return load;
}

async function deployment(kiln: TestKiln, id: string): Promise<any> {
  return (await kiln.api(`/deployments/${id}`)).json();
}

/** POST …/redeploy (retrying a 409 "build in progress" a bounded number of times); resolves when the serving release changes. */
async function redeployAndWait(kiln: TestKiln, id: string): Promise<number> {
  const before = (await deployment(kiln, id)).currentRelease?.number ?? null;
  for (let attempt = 0; ; attempt++) {
    const res = await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" });
    const body = await res.text();
    if (res.status === 202) break;
    if (res.status !== 409 || attempt >= 100) throw new Error(`redeploy: ${res.status} ${body}`);
    await Bun.sleep(250);
  }
  const deadline = Date.now() + STEP_LIMIT_MS;
  while (Date.now() < deadline) {
    const d = await deployment(kiln, id);
    const now = d.currentRelease?.number ?? null;
    if (now !== null && now !== before) return now;
    if (d.status === "failed") throw new Error(`redeploy failed: ${d.failureReason}`);
    await Bun.sleep(100);
  }
  throw new Error(`redeploy: the serving release stayed #${before} for ${STEP_LIMIT_MS / 1000} s`);
}

/**
 * One default rollback, timed: from sending the request to the first GET through Caddy answering the
 * target's VERSION. Also counts answers of the old VERSION seen after the new one (flaps).
 */
async function timedRollback(kiln: TestKiln, id: string, versionOf: Map<number, string>): Promise<{ visibleMs: number; apiMs: number; release: number; flaps: number; pollFailures: string[] }> {
  const [d, list] = await Promise.all([deployment(kiln, id), kiln.api(`/deployments/${id}/releases`).then((r) => r.json() as Promise<any>)]);
  const current: number = d.currentRelease.number;
  const target = (list.releases as any[]).find((r) => r.number < current);
  if (!target) throw new Error(`rollback: no release before #${current}`);
  const want = versionOf.get(target.number);
  const was = versionOf.get(current);
  if (!want || want === was) throw new Error(`rollback: release #${target.number} (${want}) is not distinguishable from #${current} (${was})`);

  const t0 = performance.now();
  let visibleAt: number | null = null;
  let apiAt: number | null = null;
  let flaps = 0;
  const pollFailures: string[] = [];
  const api = kiln.api(`/deployments/${id}/rollback?wait=true`, { method: "POST" }).then(async (res) => {
    const body = (await res.json()) as any;
    apiAt = performance.now();
    if (res.status !== 200) throw new Error(`rollback: ${res.status} ${JSON.stringify(body)}`);
    return body.release.number as number;
  });
  api.catch(() => (apiAt = performance.now()));
  // Poll until the target answers and the API has answered, plus a short while to catch flaps.
  for (let i = 0; i < 20_000 && performance.now() - t0 < STEP_LIMIT_MS; i++) {
    const r = await get(kiln, "/");
    const now = performance.now();
    if ("status" in r && r.status === 200) {
      const version = (JSON.parse(r.body) as { version: string }).version;
      if (version === want && visibleAt === null) visibleAt = now;
      else if (version !== want && visibleAt !== null) flaps++;
    } else pollFailures.push("status" in r ? `HTTP ${r.status}` : r.error);
    if (visibleAt !== null && apiAt !== null && now - Math.max(visibleAt, apiAt) > 300) break;
    await Bun.sleep(5);
  }
  const release = await api;
  if (visibleAt === null) throw new Error(`rollback to #${target.number}: ${want} never answered through Caddy`);
  versionOf.set(release, want);
  return { visibleMs: visibleAt - t0, apiMs: apiAt! - t0, release, flaps, pollFailures };
}

/** Per change (mark), the span from its first failed request to its last: total and longest. */
function outage(load: Load): { total: number; longest: number } {
  const spans = new Map<number, { first: number; last: number }>();
  for (const f of load.failures) {
    const i = load.marks.findLastIndex((m) => m.t <= f.t);
    const span = spans.get(i);
    if (span) span.last = f.t;
    else spans.set(i, { first: f.t, last: f.t });
  }
  const lengths = [...spans.values()].map((x) => x.last - x.first);
  return { total: lengths.reduce((a, b) => a + b, 0), longest: Math.max(0, ...lengths) };
}

/** Failures grouped by kind, and each one's nearest preceding mark (what was going on). */
function describeFailures(load: Load): string[] {
  const kinds = new Map<string, number>();
  for (const f of load.failures) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const lines = [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${String(n).padStart(5)} × ${k}`);
  const during = new Map<string, number>();
  for (const f of load.failures) {
    const m = load.marks.findLast((x) => x.t <= f.t);
    const key = m ? m.label : "(before the first change)";
    during.set(key, (during.get(key) ?? 0) + 1);
  }
  if (during.size) lines.push(`    after: ${[...during].slice(0, 12).map(([k, n]) => `${k} (${n})`).join(", ")}${during.size > 12 ? ", …" : ""}`);
  return lines;
}

const wall0 = performance.now();
let kiln: TestKiln | null = null;
let gitd: GitDaemon | null = null;
try {
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
  const repo = gitd.repoDir(`${APP}.git`);
  makeRepo(repo, fixtureFiles("v1"));
  const created = await kiln.api("/deployments", json({ gitUrl: gitd.url(`${APP}.git`), name: APP, env: { GREETING: "bench" } }));
  if (created.status !== 202) throw new Error(`deploy: ${created.status} ${await created.text()}`);
  const id: string = ((await created.json()) as any).id;
  const first = await kiln.waitFor(id, ["running", "failed"]);
  if (first.status !== "running") throw new Error(`first deploy failed: ${first.failureReason}`);
  const versionOf = new Map<number, string>([[first.currentRelease.number, "v1"]]);
  const check = await get(kiln, "/");
  if (!("status" in check) || check.status !== 200) throw new Error(`the app does not answer through Caddy: ${JSON.stringify(check)}`);
  commitFiles(repo, { VERSION: "v2\n" }, "v2");
  versionOf.set(await redeployAndWait(kiln, id), "v2"); // warms the build cache for v2
  const setupMs = performance.now() - wall0;

  // ── Phase A: Kiln's swap ──
  const a0 = performance.now();
  const loadA = startLoad(kiln);
  const redeployMs: number[] = [];
  const rollbacks: Awaited<ReturnType<typeof timedRollback>>[] = [];
  try {
    await Bun.sleep(1000); // steady load before the first change
    for (let i = 0; i < N; i++) {
      const last = i === N - 1;
      if (last) commitFiles(repo, { VERSION: "v3\n" }, "v3"); // the two latest releases differ: rollbacks alternate v2/v3
      loadA.mark(`redeploy ${i + 1}`);
      const t = performance.now();
      versionOf.set(await redeployAndWait(kiln, id), last ? "v3" : "v2");
      redeployMs.push(performance.now() - t);
    }
    for (let i = 0; i < N; i++) {
      loadA.mark(`rollback ${i + 1}`);
      rollbacks.push(await timedRollback(kiln, id, versionOf));
    }
    loadA.mark("tail");
    await Bun.sleep(TAIL_MS);
  } finally {
    loadA.stop();
    await loadA.done;
  }
  const phaseAMs = performance.now() - a0;

  // ── Phase B: the baseline, stop then start ──
  const b0 = performance.now();
  const loadB = startLoad(kiln);
  const stopStartMs: number[] = [];
  try {
    await Bun.sleep(1000);
    for (let i = 0; i < N; i++) {
      loadB.mark(`stop+start ${i + 1}`);
      const t = performance.now();
      const stop = await kiln.api(`/deployments/${id}/stop`, { method: "POST" });
      if (stop.status !== 200) throw new Error(`stop: ${stop.status} ${await stop.text()}`);
      const start = await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" });
      if (start.status !== 202) throw new Error(`redeploy after stop: ${start.status} ${await start.text()}`);
      const d = await kiln.waitFor(id, ["running", "failed"], STEP_LIMIT_MS);
      if (d.status !== "running") throw new Error(`start after stop failed: ${d.failureReason}`);
      stopStartMs.push(performance.now() - t);
    }
    loadB.mark("tail");
    await Bun.sleep(TAIL_MS);
  } finally {
    loadB.stop();
    await loadB.done;
  }
  const phaseBMs = performance.now() - b0;

  // ── Figures ──
  const failedA = loadA.failures.length;
  const failedB = loadB.failures.length;
  const rateA = failedA / Math.max(1, loadA.ok + failedA);
  const rateB = failedB / Math.max(1, loadB.ok + failedB);
  const visible = rollbacks.map((r) => r.visibleMs);
  const p99 = pct(visible, 99);
  const pollFailures = rollbacks.flatMap((r) => r.pollFailures);
  const flaps = rollbacks.reduce((n, r) => n + r.flaps, 0);
  const outA = outage(loadA);
  const outB = outage(loadB);
  const met = (ok: boolean) => (ok ? "MET" : "NOT MET");
  const row = (label: string, value: string, goal = "") => `  ${label.padEnd(42)} ${value.padEnd(28)} ${goal}`;
  console.log(
    [
      `redeploy benchmark: ${APP} (day-two fixture, git), N=${N}, ${CLIENTS} keep-alive clients through Caddy, 1 in 10 /slow?ms=${SLOW_MS}`,
      row("", "figure", "goal"),
      row("phase A (swap) requests ok / failed", `${loadA.ok} / ${failedA}`, `0 failed: ${met(failedA === 0)}`),
      row("phase B (stop+start) requests ok / failed", `${loadB.ok} / ${failedB}`),
      row("failure rate A / B", `${(rateA * 100).toFixed(3)}% / ${(rateB * 100).toFixed(3)}%`),
      row("ratio of failure rates A ÷ B", rateB > 0 ? (rateA / rateB).toFixed(4) : "n/a (B had none)"),
      row("outage A / B: total (longest)", `${s(outA.total)} (${s(outA.longest)}) / ${s(outB.total)} (${s(outB.longest)})`),
      row("requests served (A + B)", String(loadA.ok + loadB.ok)),
      row("rollback → target answers p50/p99/max", `${ms(pct(visible, 50))} / ${ms(p99)} / ${ms(Math.max(...visible))}`, `p99 ≤ ${GOAL_ROLLBACK_P99_MS} ms: ${met(p99 <= GOAL_ROLLBACK_P99_MS)}`),
      row("rollback API (?wait=true) p50/max", `${ms(pct(rollbacks.map((r) => r.apiMs), 50))} / ${ms(Math.max(...rollbacks.map((r) => r.apiMs)))}`),
      row("redeploy → new release serves mean/max", `${s(mean(redeployMs))} / ${s(Math.max(...redeployMs))}`),
      row("stop+start → running mean/max", `${s(mean(stopStartMs))} / ${s(Math.max(...stopStartMs))}`),
      row("wall time setup / A / B / total", `${s(setupMs)} / ${s(phaseAMs)} / ${s(phaseBMs)} / ${s(performance.now() - wall0)}`),
      ...(flaps || pollFailures.length ? [row("rollback probe: old after new / failed", `${flaps} / ${pollFailures.length}${pollFailures.length ? ` (${[...new Set(pollFailures)].join(", ")})` : ""}`)] : []),
      `  phase A failure kinds:${failedA ? "" : " none"}`,
      ...describeFailures(loadA),
      `  phase B failure kinds:${failedB ? "" : " none"}`,
      ...describeFailures(loadB),
      `  raw rollback → target answers (ms): ${JSON.stringify(visible.map(Math.round))}`,
    ].join("\n"),
  );
} finally {
  await kiln?.rollout.settled().catch(() => {});
  await kiln?.stop();
  await gitd?.stop();
}

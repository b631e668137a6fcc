/**
 * The chaos suite's rounds, shared by test/chaos/chaos.test.ts (bounded, in CI) and bench/chaos.ts
 * (longer). Each round injects one fault into a working Kiln — kill -9 while builds, claims,
 * releases and syncs are in flight (at a random moment), Caddy or the tenant resolver killed, S3
 * failing or hanging during a release — then waits for Kiln to be back and repaired, and counts
 * every invariant's violations. Every choice comes from one seeded PRNG: the printed seed replays
 * the run (`KILN_CHAOS_SEED=<seed>`).
 *
 *   const w = await startWorld({ tenants: 4, apps: ["app-a", "app-b"], log });
 *   const report = await runChaos(w, seededRng(seed), { kills: 50, caddy: 3, resolver: 3, s3Errors: 3 });
 *   console.log(formatReport(report));
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tarOf } from "../helpers/kiln.ts";
import { INVARIANTS, type Invariant } from "./invariants.ts";
import type { Rng } from "./prng.ts";
import { WORKLOAD, type TenantModel, type World } from "./world.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/apps");
const APP_SOURCES = ["static", "procfile"];

export interface Plan {
  /** Rounds of kill -9 of Kiln at a random moment, then a restart on the same data dir. */
  kills: number;
  caddy: number;
  resolver: number;
  /** Releases while S3 answers errors (no kill). */
  s3Errors: number;
  /** 503 (default; rclone retries it, so a release takes ~50 s to fail) or 403 (not retried: fails at once). */
  s3ErrorStatus?: 403 | 503;
  /** The kill comes at a uniform delay in [0, maxKillDelayMs] after the work starts. */
  maxKillDelayMs?: number;
  /** How long the invariants may take to hold once Kiln has settled (repairs are asynchronous). */
  checkDeadlineMs?: number;
  onRound?: (line: string) => void;
}

export interface Report {
  seed: number;
  rounds: number;
  faults: Record<string, number>;
  violations: Record<Invariant, number>;
  /** One line per violation: round, invariant, what. */
  details: string[];
}

interface Stop {
  stopped: boolean;
}

/** What is in flight right now, by kind (counted at the moment of a kill). */
class InFlight {
  readonly #n = new Map<string, number>();
  async run<T>(kind: string, f: () => Promise<T>): Promise<T> {
    this.#n.set(kind, (this.#n.get(kind) ?? 0) + 1);
    try {
      return await f();
    } finally {
      this.#n.set(kind, this.#n.get(kind)! - 1);
    }
  }
  now(): string[] {
    return [...this.#n].filter(([, n]) => n > 0).map(([k]) => k).sort();
  }
}

async function claim(w: World, t: TenantModel, flight: InFlight, rng: Rng): Promise<boolean> {
  t.held = "unknown";
  const res = await flight.run("claim", () => w.api(`/tenants/${t.id}/claim`, { workload: WORKLOAD }));
  await res.body?.cancel();
  if (res.status !== 200) return false;
  t.held = "claimed";
  w.write(t, rng);
  return true;
}

async function release(w: World, t: TenantModel, flight: InFlight): Promise<boolean> {
  t.held = "unknown";
  const res = await flight.run("release", () => w.api(`/tenants/${t.id}/release`, { workload: WORKLOAD }));
  await res.body?.cancel();
  if (res.status !== 200) return false;
  t.held = "released";
  return true;
}

async function sync(w: World, t: TenantModel, flight: InFlight): Promise<boolean> {
  const res = await flight.run("sync", () => w.api(`/tenants/${t.id}/sync`, { workload: WORKLOAD, direction: "upload" }));
  await res.body?.cancel();
  return res.status === 200;
}

/** One tenant's churn until stopped or an operation fails: claim, write, sync or release, claim… */
async function tenantLoop(w: World, t: TenantModel, flight: InFlight, rng: Rng, stop: Stop): Promise<void> {
  while (!stop.stopped) {
    let ok: boolean;
    if (t.held === "released") ok = await claim(w, t, flight, rng);
    else if (rng.next() < 0.35) {
      w.write(t, rng);
      ok = await sync(w, t, flight);
    } else {
      w.write(t, rng);
      ok = await release(w, t, flight);
    }
    if (!ok) return;
  }
}

/** Deploys and redeploys tarball apps until stopped, each followed to a final status. */
async function deployLoop(w: World, flight: InFlight, rng: Rng, stop: Stop): Promise<void> {
  while (!stop.stopped) {
    const name = rng.pick(w.apps);
    const tar = await tarOf(join(FIXTURES, rng.pick(APP_SOURCES)));
    const ok = await flight.run("build", async () => {
      const res = await w.k.api(`/deployments/upload?name=${name}`, { method: "POST", body: tar }).catch(() => null);
      if (res?.status !== 202) return false;
      await res.body?.cancel();
      // followed until every build of the app is final (the new one may not be its current build yet)
      while (!stop.stopped) {
        const list = (await w.api(`/deployments/${name}/builds`).then((r) => r.json()).catch(() => null)) as { builds: { status: string }[] } | null;
        if (!list?.builds) return false;
        if (list.builds.every((b) => ["succeeded", "failed", "cancelled"].includes(b.status))) return true;
        await Bun.sleep(50);
      }
      return false;
    });
    if (!ok) return;
  }
}

/** kill -9 of Kiln at a random moment while work is in flight, then a restart on the same data dir. */
async function killRound(w: World, rng: Rng, maxDelayMs: number, faults: Record<string, number>): Promise<string> {
  const stop: Stop = { stopped: false };
  const flight = new InFlight();
  const work: Promise<void>[] = [];
  const hang = rng.next() < 0.15;
  const builds = hang ? false : rng.next() < 0.5;
  if (hang) w.faults.set("hang");
  if (builds) work.push(deployLoop(w, flight, rng, stop));
  if (!builds || rng.next() < 0.7) for (const t of rng.some(w.tenants, 3)) work.push(tenantLoop(w, t, flight, rng, stop));
  const delay = rng.int(hang ? 300 : 0, maxDelayMs);
  await Bun.sleep(delay);
  const during = flight.now();
  await w.kill();
  stop.stopped = true;
  await Promise.all(work);
  const kind = hang ? `kill -9 with S3 hanging${during.includes("release") ? " during a release" : ""}` : `kill -9 during ${during.length ? during.join("+") : "nothing (between operations)"}`;
  faults[kind] = (faults[kind] ?? 0) + 1;
  if (hang) w.faults.set("pass");
  await w.start();
  return `${kind}, after ${delay} ms`;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

async function caddyRound(w: World): Promise<string> {
  const pids = Bun.spawnSync(["pgrep", "-f", join(w.k.dataDir, "caddy")]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
  for (const pid of pids) killPid(pid);
  return `Caddy killed (pid ${pids.join(",") || "none found"})`;
}

async function resolverRound(w: World): Promise<string> {
  const { pid } = JSON.parse(readFileSync(join(w.k.dataDir, "tenant-resolver.json"), "utf8")) as { pid: number };
  killPid(pid);
  return `tenant resolver killed (pid ${pid})`;
}

/** Releases while S3 answers errors: each must fail, and the tenant keep its container and files. */
async function s3ErrorRound(w: World, rng: Rng, status: 403 | 503): Promise<string> {
  const flight = new InFlight();
  const tenants = rng.some(w.tenants, 2);
  for (const t of tenants) if (t.held === "released") await claim(w, t, flight, rng);
  w.faults.set("error", status);
  const answers: number[] = [];
  for (const t of tenants.filter((t) => t.held === "claimed")) {
    w.write(t, rng);
    t.held = "unknown";
    const res = await w.api(`/tenants/${t.id}/release`, { workload: WORKLOAD });
    answers.push(res.status);
    await res.body?.cancel();
    if (res.status === 200) t.held = "released"; // S3 failed and yet released: the files check will tell
  }
  w.faults.set("pass");
  return `S3 answering ${status} during ${answers.length} release(s): Kiln answered ${answers.join(", ") || "none"}`;
}

async function checkUntil(w: World, deadlineMs: number): Promise<Record<Invariant, string[]>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const r = await w.check();
    if (Object.values(r).every((v) => v.length === 0) || Date.now() > deadline) return r;
    await Bun.sleep(500);
  }
}

export async function runChaos(w: World, rng: Rng, plan: Plan): Promise<Report> {
  const kinds = [...Array(plan.kills).fill("kill"), ...Array(plan.caddy).fill("caddy"), ...Array(plan.resolver).fill("resolver"), ...Array(plan.s3Errors).fill("s3-error")];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const report: Report = { seed: rng.seed, rounds: 0, faults: {}, violations: Object.fromEntries(INVARIANTS.map((i) => [i, 0])) as Record<Invariant, number>, details: [] };
  for (const kind of kinds) {
    const n = ++report.rounds;
    const t0 = Date.now();
    let what: string;
    if (kind === "kill") what = await killRound(w, rng, plan.maxKillDelayMs ?? 1500, report.faults);
    else {
      what = kind === "caddy" ? await caddyRound(w) : kind === "resolver" ? await resolverRound(w) : await s3ErrorRound(w, rng, plan.s3ErrorStatus ?? 503);
      const label = kind === "caddy" ? "Caddy killed" : kind === "resolver" ? "tenant resolver killed" : "S3 errors during release";
      report.faults[label] = (report.faults[label] ?? 0) + 1;
    }
    const settled = await w.settle();
    w.resolveUnknown();
    const result = await checkUntil(w, plan.checkDeadlineMs ?? 15_000);
    if (settled !== null) result["kiln settles"].push(`not back with its pools at min_size and every build final within 60 s; ${settled}`);
    let bad = 0;
    for (const inv of INVARIANTS) {
      report.violations[inv] += result[inv].length;
      bad += result[inv].length;
      for (const line of result[inv]) report.details.push(`round ${n} (${what}): ${inv}: ${line}`);
    }
    plan.onRound?.(`round ${n}: ${what}; ${bad === 0 ? "all invariants hold" : `${bad} violation(s)`} (${Date.now() - t0} ms)`);
  }
  return report;
}

export function formatReport(r: Report): string {
  const width = Math.max(...[...Object.keys(r.faults), ...INVARIANTS].map((s) => s.length));
  const row = (k: string, v: number) => `  ${k.padEnd(width)}  ${String(v).padStart(4)}`;
  return [
    `chaos: seed ${r.seed} (replay with KILN_CHAOS_SEED=${r.seed}), ${r.rounds} rounds`,
    "faults injected:",
    ...Object.entries(r.faults).sort().map(([k, v]) => row(k, v)),
    `  ${"kill -9 of Kiln, in all".padEnd(width)}  ${String(Object.entries(r.faults).filter(([k]) => k.startsWith("kill -9")).reduce((a, [, v]) => a + v, 0)).padStart(4)}`,
    "invariant violations:",
    ...INVARIANTS.map((i) => row(i, r.violations[i])),
    ...(r.details.length ? ["violations:", ...r.details.slice(0, 60).map((d) => `  ${d}`), ...(r.details.length > 60 ? [`  … and ${r.details.length - 60} more`] : [])] : []),
  ].join("\n");
}

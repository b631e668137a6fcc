/**
 * Deploy one corpus app through a running test Kiln, from a tarball or from a git repository
 * served by a local git daemon, and judge it: its HTTP answers through Caddy, or its failure
 * reason for the traps that must fail. Returns what went wrong rather than throwing, so a
 * benchmark can print a whole table; the deployment is deleted afterwards.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { makeRepo, type GitDaemon } from "../helpers/git-daemon.ts";
import { tarOf, type TestKiln } from "../helpers/kiln.ts";
import type { CorpusApp } from "./corpus.ts";

export const FIXTURES = join(import.meta.dir, "../fixtures/apps");

export interface CorpusResult {
  fixture: string;
  via: "tarball" | "git";
  /** From the deploy request to running (or failed). */
  ms: number;
  status: string;
  /** Empty when the app did what the corpus says. */
  problems: string[];
  /** The builder's one-line plan, when it logged one. */
  plan?: string;
}

export async function deployCorpusApp(kiln: TestKiln, gitd: GitDaemon, app: CorpusApp, via: "tarball" | "git", name: string, timeoutMs = 900_000): Promise<CorpusResult> {
  const started = performance.now();
  const id = via === "tarball" ? await upload(kiln, app, name) : await fromGit(kiln, gitd, app, name);
  const d = await kiln.waitFor(id, ["running", "failed"], timeoutMs);
  const ms = Math.round(performance.now() - started);
  const problems: string[] = [];
  const lines = await kiln.logs(id, { timeoutMs: 2_000, until: (ls) => ls.some((l) => l.text.includes("detected:")) }).catch(() => []);
  const plan = lines.find((l) => l.text.includes("detected:"))?.text.replace(/^kiln: /, "");
  if (app.plan && !plan?.includes(app.plan)) problems.push(`plan ${JSON.stringify(plan)} does not hold ${JSON.stringify(app.plan)}`);
  if (app.fails) {
    if (d.status !== "failed") problems.push(`expected the build to fail, but it is ${d.status}`);
    for (const text of app.fails) if (!String(d.failureReason ?? "").includes(text)) problems.push(`failure reason ${JSON.stringify(d.failureReason)} does not hold ${JSON.stringify(text)}`);
  } else if (d.status !== "running") {
    problems.push(`${d.status}: ${d.failureReason}`);
  } else {
    for (const check of app.checks ?? []) problems.push(...(await judge(kiln, name, check)));
  }
  await kiln.api(`/deployments/${id}?volumes=true`, { method: "DELETE" });
  return { fixture: app.fixture, via, ms, status: d.status, problems, plan };
}

async function upload(kiln: TestKiln, app: CorpusApp, name: string): Promise<string> {
  const headers: Record<string, string> = app.settings ? { "kiln-settings": JSON.stringify(app.settings) } : {};
  const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: await tarOf(join(FIXTURES, app.fixture)), headers });
  if (res.status !== 202) throw new Error(`upload of ${app.fixture}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function fromGit(kiln: TestKiln, gitd: GitDaemon, app: CorpusApp, name: string): Promise<string> {
  const repo = `${name}.git`;
  makeRepo(gitd.repoDir(repo), filesOf(join(FIXTURES, app.fixture)));
  const body = { gitUrl: gitd.url(repo), ref: "main", name, ...(app.settings ? { settings: app.settings } : {}) };
  const res = await kiln.api("/deployments", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (res.status !== 202) throw new Error(`git deploy of ${app.fixture}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Every file of a fixture (text), as makeRepo takes them; executables end in "*". */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name === "node_modules" || name === ".git") continue;
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else out[relative(dir, path) + (st.mode & 0o111 ? "*" : "")] = readFileSync(path, "utf8");
    }
  };
  walk(dir);
  return out;
}

async function judge(kiln: TestKiln, name: string, check: Check): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${kiln.publicPort}${check.path}`, {
    headers: { host: `${name}.localhost:${kiln.publicPort}`, ...(check.headers ?? {}) },
    redirect: "manual",
  }).catch((err) => err as Error);
  if (res instanceof Error) return [`GET ${check.path}: ${res.message}`];
  const body = await res.text();
  const problems: string[] = [];
  const want = check.status ?? 200;
  if (res.status !== want) problems.push(`GET ${check.path}: status ${res.status}, not ${want} (${body.slice(0, 120)})`);
  if (check.body !== undefined && !body.includes(check.body)) problems.push(`GET ${check.path}: body lacks ${JSON.stringify(check.body)}: ${JSON.stringify(body.slice(0, 200))}`);
  if (check.header) {
    const value = res.headers.get(check.header[0]) ?? "";
    if (!check.header[1].test(value)) problems.push(`GET ${check.path}: ${check.header[0]} is ${JSON.stringify(value)}, not ${check.header[1]}`);
  }
  return problems;
}

type Check = NonNullable<CorpusApp["checks"]>[number];

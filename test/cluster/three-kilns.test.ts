/**
 * Three Kilns as three processes on one Postgres (KILN_DATABASE_URL), one Docker engine, a Caddy
 * each: a deploy through A is followed through B (WebSocket v2: every line once, in order) and
 * listed through C; a domain attached through one Kiln is served by every Kiln's Caddy; A killed with SIGKILL in the middle of a build → the build is taken over on B
 * or C and completes there, once, and nothing is left queued or running; B killed in the middle of
 * a build of an upload it received → C builds it again from the copy kept in the database; one
 * leader at a time (the reconciler runs there), another after the leader dies.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL, type Subprocess } from "bun";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine } from "../../src/core/logs.ts";
import { startGitDaemon, makeRepo, type GitDaemon } from "../helpers/git-daemon.ts";
import { kilnProcess, type KilnProcess } from "../helpers/kiln-process.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { collectFrames } from "../helpers/ws-frames.ts";
import { tarOf } from "../helpers/kiln.ts";
import { until } from "../helpers/wait.ts";
import { clusterIdOf, removeClusterLeftovers, stopKilns } from "./leftovers.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";

let pg: TestPostgres;
let git: GitDaemon;
let url: string;
const kilns: KilnProcess[] = [];
const procs: Subprocess[] = [];
const secretKey = randomBytes(32).toString("base64");
/** In the build step, so that no earlier run's build cache makes it instant. */
const RUN_NONCE = randomBytes(6).toString("hex");

const SERVER = "require('http').createServer((q,r)=>r.end('cluster says hi')).listen(8080);\n";
const dockerfile = (sleepSeconds: number) =>
  `FROM ${WORKLOAD_IMAGE}\nWORKDIR /app\nRUN echo "step-$((20+1))-begun ${RUN_NONCE}" && sleep ${sleepSeconds} && echo "step-$((40+2))-done"\nCOPY server.js ./\nENV PORT=8080\nCMD ["node", "server.js"]\n`;

// The step's output lines (step-21-begun, step-42-done) differ from its header, which shows the command.
/** The node id a Kiln wrote into its data dir: its job-lease owner ids start with it. */
const nodeOf = (k: KilnProcess) => readFileSync(join(k.dataDir, "instance-id"), "utf8").trim();
const output = (k: KilnProcess) => join(k.dataDir, "..", `${k.dataDir.split("/").pop()}.log`);
const logOf = (k: KilnProcess) => {
  try {
    return readFileSync(output(k), "utf8");
  } catch {
    return "";
  }
};

beforeAll(async () => {
  await ensureWorkloadImage();
  pg = await startPostgres();
  url = await pg.createDatabase();
  git = await startGitDaemon();
  makeRepo(git.repoDir("quick"), { Dockerfile: dockerfile(1), "server.js": SERVER });
  makeRepo(git.repoDir("slow"), { Dockerfile: dockerfile(25), "server.js": SERVER });
  for (const name of ["a", "b", "c"]) {
    const k = kilnProcess(`kiln-cluster-${name}`);
    Object.assign(k.env, { KILN_DATABASE_URL: url, KILN_SECRET_KEY: secretKey, KILN_MANAGE_CADDY: "1" });
    kilns.push(k);
    procs.push(await k.serve({ output: output(k), timeoutMs: 30_000 }));
  }
}, WORKLOAD_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  const clusterId = url ? await clusterIdOf(url) : null;
  await stopKilns(procs, kilns);
  for (const k of kilns) rmSync(output(k), { force: true });
  await git?.stop();
  removeClusterLeftovers(clusterId);
  await pg?.stop();
}, 120_000);

const A = () => kilns[0]!;
const B = () => kilns[1]!;
const C = () => kilns[2]!;

async function deployment(k: KilnProcess, id: string): Promise<Record<string, any>> {
  return (await (await k.api(`/deployments/${id}`)).json()) as Record<string, any>;
}

async function builds(k: KilnProcess, id: string): Promise<Record<string, any>[]> {
  const body = (await (await k.api(`/deployments/${id}/builds`)).json()) as Record<string, any>;
  return (Array.isArray(body) ? body : body.builds) as Record<string, any>[];
}

test("one Kiln leads at a time: one holder of the leader lock, and one says it leads", async () => {
  const db = new SQL(url, { max: 1 });
  try {
    const holders = await until("a leader", async () => {
      const rows = await db.unsafe<{ pid: number }[]>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1802071150::oid AND objid = 16::oid");
      return rows.length > 0 ? rows : null;
    }, 20_000);
    expect(holders.length).toBe(1);
    await until("a Kiln saying it leads", async () => kilns.some((k) => logOf(k).includes(" leads")), 20_000);
    expect(kilns.filter((k) => /leader: \S+ leads/.test(logOf(k))).length).toBe(1);
  } finally {
    await db.close();
  }
}, 60_000);

test("deploy through A, follow its log through B, list it through C; B's Caddy serves it", async () => {
  const res = await A().api("/deployments", { body: { gitUrl: git.url("quick"), name: "cl-quick" } });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const ws = `ws://127.0.0.1:${B().env.KILN_API_PORT}/api/v1/deployments/${id}/logs?since=1&v=2&token=${B().env.KILN_API_TOKEN}`;
  const followed = await collectFrames(ws, (c) => c.lines.some((l: LogLine) => /release #1 serving/.test(l.text)), 180_000);
  const seqs = followed.lines.map((l) => l.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // every line once, in order, from 1
  expect(followed.lines.some((l) => l.text.includes("step-42-done"))).toBe(true);
  const listed = (await (await C().api("/deployments")).json()) as Record<string, any>;
  const rows = (Array.isArray(listed) ? listed : listed.deployments) as Record<string, any>[];
  expect(rows.find((d) => d.id === id)?.status).toBe("running");
  const viaB = await until("B's Caddy to route cl-quick", async () => {
    const r = await B().viaCaddy(`cl-quick.localhost:${B().publicPort}`).catch(() => null);
    return r?.status === 200 ? r : null;
  }, 30_000);
  expect(await viaB.text()).toBe("cluster says hi");
}, 240_000);

test("a domain attached through C is served by A's and B's Caddy; detached through A, it is gone from C's", async () => {
  const host = "cl-quick.example.test";
  const res = await C().api("/deployments/cl-quick/domains", { body: { host } });
  expect(res.status).toBe(201);
  for (const k of [A(), B()]) {
    const page = await until(`the domain through ${k.dataDir}'s Caddy`, async () => {
      const r = await k.viaCaddy(host).catch(() => null);
      return r?.status === 200 ? r : null;
    }, 20_000);
    expect(await page.text()).toBe("cluster says hi");
  }
  expect((await A().api(`/deployments/cl-quick/domains/${host}`, { method: "DELETE" })).status).toBeLessThan(300);
  await until("the domain gone from C's Caddy", async () => {
    const r = await C().viaCaddy(host).catch(() => null);
    return r !== null && r.status !== 200;
  }, 20_000);
}, 60_000);

test("an app's request figures are every Kiln's Caddy's together, on whichever Kiln is asked", async () => {
  const ok2xx = async (k: KilnProcess) => {
    const body = (await (await k.api("/deployments/cl-quick/stats")).json()) as { samples: { status: Record<string, number> }[] };
    return body.samples.reduce((n, s) => n + s.status["2xx"]!, 0);
  };
  // Quiet first: the earlier tests' requests all counted (two reads a sample apart agree, on A and on C).
  let before = [-1, -1];
  await until("the counts to settle", async () => {
    const now = [await ok2xx(A()), await ok2xx(C())];
    const settled = now[0] === before[0] && now[1] === before[1];
    before = now;
    if (!settled) await Bun.sleep(11_000);
    return settled;
  }, 90_000);
  for (let i = 0; i < 5; i++) expect((await A().viaCaddy(`cl-quick.localhost:${A().publicPort}`)).status).toBe(200);
  for (let i = 0; i < 7; i++) expect((await B().viaCaddy(`cl-quick.localhost:${B().publicPort}`)).status).toBe(200);
  // C's Caddy answered none of them; C shows all twelve, and so does A.
  await until("C to count A's and B's requests", async () => (await ok2xx(C())) >= before[1]! + 12, 40_000);
  await Bun.sleep(11_000); // every Kiln has sampled since: nothing is counted twice
  expect(await ok2xx(C())).toBe(before[1]! + 12);
  expect(await ok2xx(A())).toBe(before[0]! + 12);
}, 180_000);

test("kill -9 A in the middle of a build: B or C takes it over and completes it, once; nothing stuck", async () => {
  const res = await A().api("/deployments", { body: { gitUrl: git.url("slow"), name: "cl-slow" } });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  // In the middle: the RUN step has started on A.
  const ws = `ws://127.0.0.1:${C().env.KILN_API_PORT}/api/v1/deployments/${id}/logs?since=1&v=2&token=${C().env.KILN_API_TOKEN}`;
  await collectFrames(ws, (c) => c.lines.some((l: LogLine) => l.text.includes("step-21-begun")), 120_000);
  expect((await builds(C(), id)).map((b) => b.status)).toEqual(["running"]);
  procs[0]!.kill("SIGKILL");
  await procs[0]!.exited;

  // Ended: no build queued or running any more (a takeover fails the interrupted build, then builds anew).
  const end = await until("the build to end on B or C", async () => {
    const d = await deployment(C(), id);
    const open = (await builds(C(), id)).some((b) => b.status === "queued" || b.status === "running");
    return !open && (d.status === "running" || d.status === "failed") ? d : null;
  }, 180_000);
  expect(end.status).toBe("running");
  const all = await builds(B(), id);
  const byNumber = [...all].sort((x, y) => x.number - y.number);
  expect(byNumber.map((b) => b.status)).toEqual(["failed", "succeeded"]);
  expect(byNumber[0]!.error).toContain("interrupted: the Kiln running it");
  // Taken over by B or C (its owner id starts with that Kiln's node id), and said so in the log.
  const logs = await collectFrames(ws.replace(String(C().env.KILN_API_PORT), String(B().env.KILN_API_PORT)).replace(C().env.KILN_API_TOKEN!, B().env.KILN_API_TOKEN!), (c) => c.frames.some((f) => f.type === "replayed"), 30_000);
  const takeover = logs.lines.find((l) => l.text.includes("takes over from build #1"));
  expect(takeover).toBeDefined();
  const by = [B(), C()].filter((k) => takeover!.text.includes(`taken over by ${nodeOf(k)}-`));
  expect(by.length).toBe(1);
  expect(takeover!.text).toContain(`(${nodeOf(A())}-`);
  // One builder at a time: the interrupted build ended before the second started, and only one succeeded.
  expect(Date.parse(byNumber[0]!.finishedAt)).toBeLessThanOrEqual(Date.parse(byNumber[1]!.createdAt));
  expect(logs.lines.filter((l) => l.text.includes("step-42-done")).length).toBeLessThanOrEqual(1);
  // Nothing left in the shared queue.
  const db = new SQL(url, { max: 1 });
  try {
    const [row] = await db.unsafe<{ n: string }[]>("SELECT count(*) AS n FROM kiln_jobs");
    expect(Number(row!.n)).toBe(0);
  } finally {
    await db.close();
  }
  const page = await until("the app through C's Caddy", async () => {
    const r = await C().viaCaddy(`cl-slow.localhost:${C().publicPort}`).catch(() => null);
    return r?.status === 200 ? r : null;
  }, 30_000);
  expect(await page.text()).toBe("cluster says hi");
}, 420_000);

test("kill -9 B in the middle of a build of an upload: C builds it again from the copy in the database; a redeploy there fetches it again; delete removes it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-cluster-upload-"));
  try {
    writeFileSync(join(dir, "Dockerfile"), dockerfile(25).replace("begun", "begun-upload"));
    writeFileSync(join(dir, "server.js"), SERVER);
    const res = await B().api("/deployments/upload?name=cl-upload", { method: "POST", body: await tarOf(dir, true) });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const ws = `ws://127.0.0.1:${C().env.KILN_API_PORT}/api/v1/deployments/${id}/logs?since=1&v=2&token=${C().env.KILN_API_TOKEN}`;
    await collectFrames(ws, (c) => c.lines.some((l: LogLine) => l.text.includes("step-21-begun-upload")), 120_000);
    procs[1]!.kill("SIGKILL");
    await procs[1]!.exited;
    // The upload was received by B, and is on B's disk only — and in the database.
    const onDisk = (k: KilnProcess) => (existsSync(join(k.dataDir, "uploads")) ? readdirSync(join(k.dataDir, "uploads")).filter((f) => f.endsWith(".tar")) : []);
    expect(onDisk(C())).toEqual([]);
    const end = await until("C to end the build", async () => {
      const d = await deployment(C(), id);
      const open = (await builds(C(), id)).some((b) => b.status === "queued" || b.status === "running");
      return !open && (d.status === "running" || d.status === "failed") ? d : null;
    }, 240_000);
    expect(end.status).toBe("running");
    const byNumber = (await builds(C(), id)).sort((x, y) => x.number - y.number);
    expect(byNumber.map((b) => b.status)).toEqual(["failed", "succeeded"]);
    expect(byNumber[0]!.error).toContain(`interrupted: the Kiln running it (${nodeOf(B())}-`);
    expect(onDisk(C()).length).toBe(1); // fetched from the database to build it
    const page = await until("the uploaded app through C's Caddy", async () => {
      const r = await C().viaCaddy(`cl-upload.localhost:${C().publicPort}`).catch(() => null);
      return r?.status === 200 ? r : null;
    }, 30_000);
    expect(await page.text()).toBe("cluster says hi");

    // A redeploy asked of a Kiln without the upload on its disk fetches it again from the database.
    for (const f of onDisk(C())) rmSync(join(C().dataDir, "uploads", f));
    // (409 while the taken-over job's row is being cleared: the build ended a moment ago.)
    await until("C to accept the redeploy", async () => {
      const r = await C().api(`/deployments/${id}/redeploy`, { method: "POST" });
      if (r.status !== 202 && r.status !== 409) throw new Error(`redeploy: ${r.status} ${await r.text()}`);
      return r.status === 202;
    }, 30_000);
    await until("the redeploy to succeed", async () => {
      const all = (await builds(C(), id)).sort((x, y) => x.number - y.number);
      const last = all[all.length - 1];
      if (last?.status === "failed") throw new Error(`the redeploy failed: ${last.error}`);
      return all.length === 3 && last?.status === "succeeded";
    }, 240_000);
    expect(onDisk(C()).length).toBe(1);

    // Deleted through C: the copy in the database goes with it.
    expect((await C().api(`/deployments/${id}`, { method: "DELETE" })).status).toBeLessThan(300);
    const db = new SQL(url, { max: 1 });
    try {
      const [row] = await db.unsafe<{ n: string }[]>("SELECT count(*) AS n FROM kiln_upload_parts");
      expect(Number(row!.n)).toBe(0);
    } finally {
      await db.close();
    }
    expect(onDisk(C())).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 420_000);

test("after the leaders are killed, the one Kiln left leads, alone", async () => {
  const db = new SQL(url, { max: 1 });
  try {
    await until("one leader among B and C", async () => {
      const rows = await db.unsafe<{ pid: number }[]>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1802071150::oid AND objid = 16::oid");
      return rows.length === 1 && /leader: \S+ leads/.test(logOf(C()));
    }, 30_000);
    // A and B were killed: C, the one left, leads, and the lock has one holder.
    expect(/no longer leads/.test(logOf(C()))).toBe(false);
  } finally {
    await db.close();
  }
}, 60_000);

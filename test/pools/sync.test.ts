/**
 * Tenant state sync against the real engine, Caddy, rclone and an S3 server (s3rver): the round
 * trip claim → write → release (upload) → claim (download), manual sync, a failed upload that
 * releases nothing, rclone's progress in the tenant's log, and keys that never leak.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { LogLine } from "../../src/core/logs.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";
import { until } from "../helpers/wait.ts";

const BUCKET = "kiln-state";
/** s3rver ignores the secret, so any value works: a unique one, to look for leaks. */
const SECRET = `kiln-secret-${randomBytes(12).toString("hex")}`;
const WRONG_KEY_ID = `WRONGKEY${randomBytes(6).toString("hex").toUpperCase()}`;

let s3: TestS3;
let kiln: TestKiln;
let workloadsDir: string;
/** Every line of the tenants' log streams, by stream key. */
const logs = new Map<string, LogLine[]>();
const unsubscribe: (() => void)[] = [];
/** Every API answer body, searched for the secret at the end. */
const answers: string[] = [];

function syncBlock(keyVar: string, policy: { manual: boolean; onClaim?: boolean }): string {
  return [
    "sync:",
    "  sink:",
    "    type: s3",
    `    bucket: ${BUCKET}`,
    "    endpoint: ${S3_ENDPOINT}",
    "    region: us-east-1",
    `    access_key_id: \${${keyVar}}`,
    "    secret_access_key: ${S3_SECRET}",
    "    prefix: tenants/${tenantId}/",
    "  policy:",
    `    on_claim: ${policy.onClaim ?? true}`,
    "    on_release: true",
    `    manual: ${policy.manual}`,
  ].join("\n");
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const init: RequestInit = { method };
  if (body !== undefined) Object.assign(init, { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const res = await kiln.api(path, init);
  const text = await res.text();
  answers.push(text);
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}
const post = (path: string, body: unknown) => call("POST", path, body);
const get = (path: string) => call("GET", path);


async function follow(workload: string, tenant: string): Promise<void> {
  const key = `tenant:${workload}:${tenant}`;
  const lines: LogLine[] = [];
  logs.set(key, lines);
  unsubscribe.push(await kiln.bus.subscribe(key, 1, (l) => void lines.push(l)));
}

const stateDir = (workload: string, tenant: string) => join(kiln.config.dataDir, "tenants", workload, tenant, "state");

/** relative path → sha256 of every file under root. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(root);
  return out;
}

async function object(key: string): Promise<Uint8Array> {
  const res = await fetch(`${s3.endpoint}/${BUCKET}/${key}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

const containerRunning = async (id: string): Promise<boolean> => {
  const res = await fetch(`http://docker/v1.41/containers/${id}/json`, { unix: "/var/run/docker.sock" } as RequestInit);
  if (res.status === 404) return false;
  return ((await res.json()) as any).State.Running === true;
};

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket(BUCKET);
  // Our own workloads folder, filled before Kiln starts: the first scan loads it.
  workloadsDir = mkdtempSync(join(tmpdir(), "kiln-sync-workloads-"));
  writeWorkload(workloadsDir, "synced", workloadYaml("synced", { min: 1, max: 3, extra: syncBlock("S3_KEY_ID", { manual: true }) }));
  writeWorkload(workloadsDir, "nomanual", workloadYaml("nomanual", { min: 0, max: 1, extra: syncBlock("S3_KEY_ID", { manual: false }) }));
  // on_claim off: a claim would look for stored state, and with a refused key it would be refused (503)
  writeWorkload(workloadsDir, "broken", workloadYaml("broken", { min: 0, max: 1, extra: syncBlock("S3_WRONG_KEY_ID", { manual: true, onClaim: false }) }));
  kiln = await startTestKiln({
    KILN_WORKLOADS_DIR: workloadsDir,
    S3_ENDPOINT: s3.endpoint,
    S3_KEY_ID: s3.accessKeyId,
    S3_WRONG_KEY_ID: WRONG_KEY_ID,
    S3_SECRET: SECRET,
  });
  await follow("synced", "a");
  await follow("broken", "z");
  await until("a ready synced member", async () => (await get("/pools")).json.pools.find((p: any) => p.workload === "synced")?.counts.ready >= 1);
}, 120_000);

afterAll(async () => {
  for (const u of unsubscribe) u();
  for (const t of ["a", "z"]) await post(`/tenants/${t}/release`, {}).catch(() => {});
  await kiln?.stop();
  await s3?.stop();
  if (workloadsDir) rmSync(workloadsDir, { recursive: true, force: true });
}, 60_000);

let uploaded: Record<string, string> = {};

test("state makes a byte-identical round trip through S3: release uploads, the next claim downloads", async () => {
  const first = await post("/tenants/a/claim", { workload: "synced" });
  expect(first.status).toBe(200);
  // the app writes one file itself; the host writes a 1 MiB binary and a nested tree
  expect((await fetch(`http://127.0.0.1:${first.json.endpoint.port}/write`)).status).toBe(200);
  const state = stateDir("synced", "a");
  mkdirSync(join(state, "nested/deeper"), { recursive: true });
  writeFileSync(join(state, "big.bin"), randomBytes(1024 * 1024));
  writeFileSync(join(state, "nested/deeper/note.txt"), "hello from a\n");
  writeFileSync(join(state, "nested/config.json"), JSON.stringify({ tenant: "a" }));
  uploaded = tree(state);
  expect(Object.keys(uploaded).sort()).toEqual(["big.bin", "hits", "nested/config.json", "nested/deeper/note.txt"]);

  const r = await post("/tenants/a/release", { workload: "synced" });
  expect(r.status).toBe(200);
  expect(await s3.keys(BUCKET, "tenants/a/")).toEqual(Object.keys(uploaded).map((k) => `tenants/a/${k}`).sort());
  expect(createHash("sha256").update(await object("tenants/a/big.bin")).digest("hex")).toBe(uploaded["big.bin"]!);
  const released = await get("/tenants/a/status");
  expect(released.json.tenants[0]).toMatchObject({ status: "released", lastSync: { direction: "upload", ok: true, error: null } });

  // The local copy drifts (another machine's would be empty or old): overwrite, delete, add.
  writeFileSync(join(state, "big.bin"), randomBytes(1024 * 1024));
  writeFileSync(join(state, "hits"), "stale");
  rmSync(join(state, "nested/deeper/note.txt"));
  writeFileSync(join(state, "stray.txt"), "not in the bucket");

  const again = await post("/tenants/a/claim", { workload: "synced" });
  expect(again.status).toBe(200);
  expect(again.json.containerId).not.toBe(first.json.containerId);
  expect(tree(state)).toEqual(uploaded); // mirrored: every sha256 matches, the stray file is gone
  const status = await get("/tenants/a/status");
  expect(status.json.tenants[0]).toMatchObject({ status: "claimed", lastSync: { direction: "download", ok: true, error: null } });
  // the downloaded state belongs to the workload's user (1000:1000), and the app sees it
  for (const f of Object.keys(uploaded)) expect([f, statSync(join(state, f)).uid]).toEqual([f, 1000]);
  const text = await (await fetch(`http://127.0.0.1:${again.json.endpoint.port}/`)).text();
  expect(text).toContain(`hits=${readFileSync(join(state, "hits"), "utf8")}`);
}, 60_000);

test("manual sync uploads on demand; a workload without policy.manual refuses with 409", async () => {
  const c = await post("/tenants/a/claim", { workload: "synced" });
  expect(c.json.source).toBe("existing");
  await Bun.sleep(5); // a different Date.now() in hits
  await fetch(`http://127.0.0.1:${c.json.endpoint.port}/write`);
  const hits = readFileSync(join(stateDir("synced", "a"), "hits"));
  expect(new TextDecoder().decode(await object("tenants/a/hits"))).not.toBe(hits.toString());

  const s = await post("/tenants/a/sync", { workload: "synced", direction: "upload" });
  expect(s.status).toBe(200);
  expect(s.json).toEqual({ ok: true });
  expect(new TextDecoder().decode(await object("tenants/a/hits"))).toBe(hits.toString());
  // the container was paused for the copy and is running again
  expect((await fetch(`http://127.0.0.1:${c.json.endpoint.port}/`)).status).toBe(200);

  const refused = await post("/tenants/a/sync", { workload: "nomanual", direction: "upload" });
  expect(refused.status).toBe(409);
  expect(refused.json.error.message).toContain("does not allow manual sync");
  expect(refused.json.error.hint).toContain("sync.policy.manual");
}, 60_000);

test("a failed upload releases nothing; after the sink is fixed, the release succeeds", async () => {
  const c = await post("/tenants/z/claim", { workload: "broken" });
  expect(c.status).toBe(200);
  const port = c.json.endpoint.port;
  await fetch(`http://127.0.0.1:${port}/write`);
  const state = stateDir("broken", "z");
  writeFileSync(join(state, "precious.txt"), "do not lose me");
  const before = tree(state);

  const r = await post("/tenants/z/release", { workload: "broken" });
  expect(r.status).toBe(503);
  expect(r.json.error.message).toContain("nothing was released");
  expect(r.json.error.hint).toContain("fix the sink and release again");
  const status = await get("/tenants/z/status");
  expect(status.json.tenants[0]).toMatchObject({ status: "release_failed", containerId: c.json.containerId, lastSync: { direction: "upload", ok: false } });
  expect(status.json.tenants[0].lastSync.error).toBeTruthy();
  expect(await containerRunning(c.json.containerId)).toBe(true);
  expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200); // unpaused, still serving
  expect(tree(state)).toEqual(before);
  expect(await s3.keys(BUCKET, "tenants/z/")).toEqual([]);

  // Fix the key in the file: the watcher reloads it; the claimed member (old spec) keeps serving.
  writeWorkload(workloadsDir, "broken", workloadYaml("broken", { min: 0, max: 1, extra: syncBlock("S3_KEY_ID", { manual: true }) }));
  await until("the fixed spec", async () => {
    const pool = (await get("/pools")).json.pools.find((p: any) => p.workload === "broken");
    return pool?.members.some((m: any) => m.tenantId === "z" && m.current === false);
  });
  expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);

  const retry = await post("/tenants/z/release", { workload: "broken" });
  expect(retry.status).toBe(200);
  expect(retry.json.released).toEqual(["broken"]);
  expect(await s3.keys(BUCKET, "tenants/z/")).toEqual(["tenants/z/hits", "tenants/z/precious.txt"]);
  expect(new TextDecoder().decode(await object("tenants/z/precious.txt"))).toBe("do not lose me");
  expect((await get("/tenants/z/status")).json.tenants[0]).toMatchObject({ status: "released", lastSync: { direction: "upload", ok: true } });
  expect(await containerRunning(c.json.containerId)).toBe(false);
}, 60_000);

test("rclone's progress lines reach the tenant's log stream", async () => {
  const lines = (key: string) => (logs.get(key) ?? []).map((l) => l.text);
  const a = lines("tenant:synced:a");
  const sync = a.filter((t) => t.startsWith("sync:"));
  expect(sync.some((t) => /^sync: upload \/ \(sync\): /.test(t))).toBe(true);
  expect(sync.some((t) => /^sync: download \/ \(sync\): /.test(t))).toBe(true);
  // rclone's own --stats-one-line progress: "sync: 1 MiB / 1 MiB, 100%, …"
  expect(sync.some((t) => /^sync: [\d.]+ \S*B \/ [\d.]+ \S*B, \d+%/.test(t))).toBe(true);
  expect(a.some((t) => t.startsWith("claimed a warm synced container"))).toBe(true);
  expect(a.some((t) => t.startsWith("released synced container"))).toBe(true);
  // the failed upload's rclone error is in z's stream
  expect(lines("tenant:broken:z").some((t) => t.startsWith("sync: error"))).toBe(true);
});

test("no key appears in any API answer or log line", async () => {
  for (const path of ["/workloads", "/pools", "/tenants", "/tenants/a/status", "/tenants/z/status"]) {
    const r = await get(path);
    expect(r.status).toBe(200);
  }
  const w = (await get("/workloads")).json.workloads.find((x: any) => x.id === "synced");
  expect(w.sync).toMatchObject({ bucket: BUCKET, prefix: "tenants/${tenantId}/", manual: true });
  const logText = [...logs.values()].flat().map((l) => l.text);
  expect(logText.length).toBeGreaterThan(5);
  for (const text of [...answers, ...logText]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(WRONG_KEY_ID);
  }
});

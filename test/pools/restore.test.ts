/**
 * Restore on claim and faults during release, against the real engine, Caddy, rclone and s3rver
 * behind a switchable fault proxy (test/helpers/s3-proxy.ts): a tenant whose state is only in S3
 * gets it back when the claim returns; a tenant with nothing stored starts empty; a download that
 * fails or hangs refuses the claim (503) with the tenant's directory exactly as before and no member
 * taken; a release whose upload fails or hangs loses nothing and succeeds later.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { LogLine } from "../../src/core/logs.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";
import { startS3Proxy, type S3Proxy } from "../helpers/s3-proxy.ts";
import { until } from "../helpers/wait.ts";
import { ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS, workloadYaml, writeWorkload } from "../helpers/workloads.ts";

const BUCKET = "kiln-restore";
const W = "restored";
/** sync.timeout of the workload: bounds a hung download or upload. */
const SYNC_TIMEOUT_S = 15;

let s3: TestS3;
let proxy: S3Proxy;
let kiln: TestKiln;
let workloadsDir: string;
const logs = new Map<string, LogLine[]>();
const unsubscribe: (() => void)[] = [];

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const init: RequestInit = { method };
  if (body !== undefined) Object.assign(init, { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const res = await kiln.api(path, init);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
const claim = (tenant: string) => call("POST", `/tenants/${tenant}/claim`, { workload: W });
const release = (tenant: string) => call("POST", `/tenants/${tenant}/release`, { workload: W });
const tenantStatus = async (tenant: string) => (await call("GET", `/tenants/${tenant}/status`)).json.tenants[0];

const tenantRoot = (tenant: string) => join(kiln.config.dataDir, "tenants", W, tenant);
const stateDir = (tenant: string) => join(tenantRoot(tenant), "state");

const sha = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** relative path → sha256 of every file under root. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = sha(readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** Store files under the tenant's prefix as another host would have (straight to s3rver); their sha256s. */
async function storeRemote(tenant: string, files: Record<string, Uint8Array | string>): Promise<Record<string, string>> {
  for (const [rel, body] of Object.entries(files)) {
    const res = await fetch(`${s3.endpoint}/${BUCKET}/tenants/${tenant}/${rel}`, { method: "PUT", body });
    expect(res.status).toBe(200);
  }
  return Object.fromEntries(Object.entries(files).map(([rel, body]) => [rel, sha(body)]));
}

async function remoteSha(key: string): Promise<string> {
  const res = await fetch(`${s3.endpoint}/${BUCKET}/${key}`);
  expect(res.status).toBe(200);
  return sha(new Uint8Array(await res.arrayBuffer()));
}

async function members(): Promise<any[]> {
  return (await call("GET", "/pools")).json.pools.find((p: any) => p.workload === W)?.members ?? [];
}

async function follow(tenant: string): Promise<LogLine[]> {
  const key = `tenant:${W}:${tenant}`;
  const lines: LogLine[] = [];
  logs.set(key, lines);
  unsubscribe.push(await kiln.bus.subscribe(key, 1, (l) => void lines.push(l)));
  return lines;
}

/** Processes whose argv names a path under `dir` (rclone downloading into the tenant's root). */
function processesUnder(dir: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, "utf8").includes(`${dir}/`);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** The claim was refused the way a failed restore must be: 503, tenant dir as before, no member, no mount. */
async function expectRefusedRestore(tenant: string, res: { status: number; json: any }, before: Record<string, string>) {
  expect(res.status).toBe(503);
  expect(res.json.error.message).toContain(`the state of tenant ${tenant} could not be restored from the sync sink, so nothing was changed`);
  expect(res.json.error.hint).toContain("retry the claim");
  expect(res.json.error.hint).toContain("check the sync sink");
  expect(tree(stateDir(tenant))).toEqual(before);
  expect(readdirSync(tenantRoot(tenant)).sort()).toEqual(["secrets", "state"]); // no state.incoming left
  expect(processesUnder(tenantRoot(tenant))).toEqual([]); // rclone was stopped, not left downloading
  expect((await members()).filter((m) => m.tenantId === tenant)).toEqual([]);
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`/tenants/${W}/${tenant}/`);
  const t = await tenantStatus(tenant);
  expect(t).toMatchObject({ status: "released", containerId: null, lastSync: { direction: "download", ok: false } });
}

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket(BUCKET);
  proxy = await startS3Proxy(s3.endpoint);
  workloadsDir = mkdtempSync(join(tmpdir(), "kiln-restore-workloads-"));
  const sync = [
    "sync:",
    "  sink:",
    "    type: s3",
    `    bucket: ${BUCKET}`,
    "    endpoint: ${S3_ENDPOINT}",
    "    region: us-east-1",
    "    access_key_id: ${S3_KEY_ID}",
    "    secret_access_key: ${S3_SECRET}",
    `  timeout: ${SYNC_TIMEOUT_S}s`,
  ].join("\n");
  writeWorkload(workloadsDir, W, workloadYaml(W, { min: 1, max: 4, extra: sync }));
  kiln = await startTestKiln({ KILN_WORKLOADS_DIR: workloadsDir, S3_ENDPOINT: proxy.endpoint, S3_KEY_ID: s3.accessKeyId, S3_SECRET: s3.secretAccessKey });
  await until("a ready member", async () => (await members()).some((m) => m.status === "ready"));
}, 120_000);

afterEach(() => proxy.set("pass"));

afterAll(async () => {
  for (const u of unsubscribe) u();
  await kiln?.stop();
  await proxy?.stop();
  await s3?.stop();
  if (workloadsDir) rmSync(workloadsDir, { recursive: true, force: true });
}, 60_000);

test("a tenant whose state is only in S3 (a new host) has it, byte for byte and owned by its user, when the claim returns", async () => {
  const stored = await storeRemote("moved", {
    "hits": "41",
    "big.bin": randomBytes(512 * 1024),
    "notes/deep/er/note.txt": "written on another host\n",
  });
  expect(existsSync(tenantRoot("moved"))).toBe(false); // nothing local at all

  const c = await claim("moved");
  expect(c.status).toBe(200);
  expect(tree(stateDir("moved"))).toEqual(stored);
  for (const f of Object.keys(stored)) expect([f, statSync(join(stateDir("moved"), f)).uid]).toEqual([f, 1000]);
  expect(statSync(stateDir("moved"))).toMatchObject({ uid: 1000, gid: 1000 });
  expect(statSync(stateDir("moved")).mode & 0o7777).toBe(0o700);
  expect(readdirSync(tenantRoot("moved")).sort()).toEqual(["secrets", "state"]);
  expect(await tenantStatus("moved")).toMatchObject({ status: "claimed", lastSync: { direction: "download", ok: true } });
  // the container sees the restored files through its mount
  expect(await (await fetch(`http://127.0.0.1:${c.json.endpoint.port}/`)).text()).toContain("hits=41");
  expect((await release("moved")).status).toBe(200);
}, 60_000);

test("a tenant with nothing stored claims without a download and starts empty", async () => {
  const log = await follow("newbie");
  const c = await claim("newbie");
  expect(c.status).toBe(200);
  expect(readdirSync(stateDir("newbie"))).toEqual([]);
  expect(readdirSync(tenantRoot("newbie")).sort()).toEqual(["secrets", "state"]);
  const t = await tenantStatus("newbie");
  expect(t).toMatchObject({ status: "claimed", lastSync: null }); // checked, nothing downloaded
  await until("the check's log line", async () => log.some((l) => l.text === "sync: nothing stored for this tenant: nothing to restore"), 5_000);
  expect(log.some((l) => l.text.startsWith("sync: download"))).toBe(false);
  expect((await release("newbie")).status).toBe(200);
}, 60_000);

test("a download the S3 server fails refuses the claim (503), changes nothing local, takes no member; after recovery the remote wins", async () => {
  // b's history on this host: claimed, written, released (uploaded); then the local copy drifts
  // and another host stores newer state.
  expect((await claim("b")).status).toBe(200);
  writeFileSync(join(stateDir("b"), "big.bin"), randomBytes(256 * 1024));
  writeFileSync(join(stateDir("b"), "doc.txt"), "v1");
  expect((await release("b")).status).toBe(200);
  writeFileSync(join(stateDir("b"), "doc.txt"), "local drift");
  writeFileSync(join(stateDir("b"), "stray.txt"), "only here");
  const newer = await storeRemote("b", { "doc.txt": "v2 from another host", "added/x.json": "{}" });
  const before = tree(stateDir("b"));

  // Only one object's body fails: the listing and the other download pass, so a partial download
  // exists (big.bin is not fetched at all: the copy of the local state already matches it).
  proxy.set("error", { only: (r) => r.method === "GET" && r.path.includes("/tenants/b/doc.txt") });
  const refused = await claim("b");
  expect(proxy.counts.error).toBeGreaterThan(0);
  await expectRefusedRestore("b", refused, before);

  proxy.set("error"); // now every request
  await expectRefusedRestore("b", await claim("b"), before);

  proxy.set("pass");
  const c = await claim("b");
  expect(c.status).toBe(200);
  // remote wins, mirrored: the drifted file is the remote's, the local-only file is gone
  expect(tree(stateDir("b"))).toEqual({ "big.bin": await remoteSha("tenants/b/big.bin"), ...newer });
  expect(readdirSync(tenantRoot("b")).sort()).toEqual(["secrets", "state"]);
  expect((await release("b")).status).toBe(200);
}, 120_000);

test("a download that hangs is stopped at sync.timeout: 503, nothing local changed, no member; the next claim restores", async () => {
  const stored = await storeRemote("h", { "a.txt": "stored a", "sub/b.txt": "stored b" });
  const before: Record<string, string> = {};
  proxy.set("hang", { only: (r) => r.method === "GET" && r.path.includes("/tenants/h/sub/b.txt") });
  const refused = await claim("h");
  expect(proxy.counts.hang).toBeGreaterThan(0);
  expect(refused.json.error.message).toContain(`did not finish within ${SYNC_TIMEOUT_S} s (sync.timeout)`);
  await expectRefusedRestore("h", refused, before);

  proxy.set("hang"); // now the first question, "is anything stored?", hangs too
  const held = proxy.counts.hang;
  const unanswered = await claim("h");
  expect(proxy.counts.hang).toBeGreaterThan(held);
  expect(unanswered.json.error.message).toContain(`did not finish within ${SYNC_TIMEOUT_S} s (sync.timeout)`);
  await expectRefusedRestore("h", unanswered, before);

  proxy.set("pass");
  expect((await claim("h")).status).toBe(200);
  expect(tree(stateDir("h"))).toEqual(stored);
  expect((await release("h")).status).toBe(200);
}, 150_000);

for (const fault of ["error", "hang"] as const) {
  test(`a release whose upload meets an S3 server that ${fault === "error" ? "answers 500" : "hangs"} is refused (503) and loses nothing; a later release uploads it all`, async () => {
    const tenant = `r-${fault}`;
    const c = await claim(tenant);
    expect(c.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${c.json.endpoint.port}/write`)).status).toBe(200);
    writeFileSync(join(stateDir(tenant), "precious.bin"), randomBytes(300 * 1024));
    const before = tree(stateDir(tenant));

    proxy.set(fault, { only: (r) => r.method === "PUT" || r.method === "POST" });
    const r = await release(tenant);
    expect(proxy.counts[fault]).toBeGreaterThan(0);
    expect(r.status).toBe(503);
    expect(r.json.error.message).toContain("nothing was released");
    if (fault === "hang") expect(r.json.error.message).toContain(`did not finish within ${SYNC_TIMEOUT_S} s`);
    const t = await tenantStatus(tenant);
    expect(t).toMatchObject({ status: "release_failed", containerId: c.json.containerId, lastSync: { direction: "upload", ok: false } });
    expect((await members()).filter((m) => m.tenantId === tenant).map((m) => m.status)).toEqual(["claimed"]);
    expect(tree(stateDir(tenant))).toEqual(before);
    expect((await fetch(`http://127.0.0.1:${c.json.endpoint.port}/`)).status).toBe(200); // unpaused, serving

    proxy.set("pass");
    const again = await release(tenant);
    expect(again.status).toBe(200);
    expect(await s3.keys(BUCKET, `tenants/${tenant}/`)).toEqual(Object.keys(before).map((k) => `tenants/${tenant}/${k}`).sort());
    for (const [k, h] of Object.entries(before)) expect([k, await remoteSha(`tenants/${tenant}/${k}`)]).toEqual([k, h]);
    expect(await tenantStatus(tenant)).toMatchObject({ status: "released", lastSync: { direction: "upload", ok: true } });
  }, 120_000);
}

/**
 * The rclone state syncer against a real S3-compatible server (s3rver, test/helpers/s3.ts)
 * and the real rclone binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RcloneSyncer } from "../../src/adapters/rclone/rclone-syncer.ts";
import { childEnvOf } from "../../src/config.ts";
import { StepError } from "../../src/core/errors.ts";
import type { LogStream } from "../../src/core/logs.ts";
import type { SyncRequest } from "../../src/core/ports/syncer.ts";
import { Secret } from "../../src/core/secret.ts";
import type { SyncMapping, SyncSink, SyncSpec } from "../../src/core/workload.ts";
import { type TestS3, startS3 } from "../helpers/s3.ts";
import { until } from "../helpers/wait.ts";

/** Pids of the live processes whose argv names `dir` (a test's own temp dir, so: its rclone). */
function processesOn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv = "";
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8"); // empty for a zombie
    } catch {
      continue; // gone meanwhile
    }
    if (argv.includes(`${dir}\0`) || argv.includes(`${dir}/`)) pids.push(Number(entry));
  }
  return pids;
}

const T = 30_000;
/** Fail fast in the failure tests (rclone's defaults retry for a while). */
const FAST_FAIL = ["--retries", "1", "--low-level-retries", "1", "--contimeout", "2s"];

let s3: TestS3;
let work: string;
/** As main.ts builds it: rclone starts from the allow-listed environment (no AWS_CA_BUNDLE). */
const syncer = new RcloneSyncer({ baseEnv: childEnvOf(process.env) });

beforeAll(async () => {
  s3 = await startS3();
  work = await mkdtemp(join(tmpdir(), "kiln-sync-test-"));
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function sink(over: Partial<SyncSink> = {}): SyncSink {
  return {
    type: "s3",
    bucket: "kiln-state",
    endpoint: s3.endpoint,
    accessKeyId: new Secret(s3.accessKeyId),
    secretAccessKey: new Secret(s3.secretAccessKey),
    prefix: "tenants/${tenantId}/",
    rcloneFlags: [],
    ...over,
  };
}

function spec(mappings: SyncMapping[], over: Partial<SyncSink> = {}): SyncSpec {
  return { sink: sink(over), mappings, policy: { onClaim: true, onRelease: true, manual: true, periodicMs: null }, timeoutMs: 60_000 };
}

const whole = (mode: SyncMapping["mode"] = "sync"): SyncMapping[] => [{ path: "/", direction: "bidirectional", mode }];

function collector() {
  const lines: { stream: LogStream; text: string }[] = [];
  return { lines, log: (stream: LogStream, text: string) => void lines.push({ stream, text }) };
}

async function sync(
  s: SyncSpec,
  tenantId: string,
  stateDir: string,
  direction: SyncRequest["direction"],
  log = collector().log,
) {
  return syncer.run({ spec: s, tenantId, stateDir, direction, log });
}

let dirs = 0;
const freshDir = () => join(work, `d${++dirs}`);

async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, ".."), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}

/** rel path → sha256 of every file under root. */
async function hashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out[full.slice(root.length + 1)] = createHash("sha256").update(await readFile(full)).digest("hex");
  }
  return out;
}

describe("rclone syncer against s3rver", () => {
  test(
    "uploads a tree (creating the bucket) and downloads it back byte for byte",
    async () => {
      const src = freshDir();
      await writeTree(src, {
        "top.txt": "hello\n",
        "a/b/c/deep.json": '{"deep":true}\n',
        "blobs/random.bin": randomBytes(3 * 1024 * 1024 + 17),
        "empty.txt": "",
        "名前 with spaces/ü file ☃.txt": "unicode ✓\n",
      });
      const up = collector();
      const res = await sync(spec(whole()), "alpha", src, "upload", up.log);
      expect(res.ok).toBe(true);
      expect(res.mappings).toBe(1);
      expect(res.durationMs).toBeGreaterThan(0);

      expect(await s3.keys("kiln-state", "tenants/alpha/")).toEqual(
        [
          "tenants/alpha/a/b/c/deep.json",
          "tenants/alpha/blobs/random.bin",
          "tenants/alpha/empty.txt",
          "tenants/alpha/top.txt",
          "tenants/alpha/名前 with spaces/ü file ☃.txt",
        ].sort(),
      );

      // rclone's progress reached the log, on the system stream, prefixed
      expect(up.lines.every((l) => l.stream === "system" && l.text.startsWith("sync: "))).toBe(true);
      expect(up.lines.some((l) => /sync: [\d.]+ MiB \/ [\d.]+ MiB, 100%/.test(l.text))).toBe(true);

      const dst = join(freshDir(), "state"); // does not exist yet
      const down = collector();
      const back = await sync(spec(whole()), "alpha", dst, "download", down.log);
      expect(back.mappings).toBe(1);
      const want = await hashes(src);
      expect(Object.keys(want)).toHaveLength(5);
      expect(await hashes(dst)).toEqual(want);
      expect(down.lines.some((l) => /^sync: [\d.]+ \S*B \/ [\d.]+ \S*B, /.test(l.text))).toBe(true);
    },
    T,
  );

  test(
    "sync mode mirrors a deletion both ways",
    async () => {
      const src = freshDir();
      await writeTree(src, { "keep.txt": "keep", "gone.txt": "gone" });
      await sync(spec(whole("sync")), "beta", src, "upload");
      await rm(join(src, "gone.txt"));
      await sync(spec(whole("sync")), "beta", src, "upload");
      expect(await s3.keys("kiln-state", "tenants/beta/")).toEqual(["tenants/beta/keep.txt"]);

      // download in sync mode removes a local file that is not stored
      const dst = freshDir();
      await writeTree(dst, { "stale.txt": "stale" });
      await sync(spec(whole("sync")), "beta", dst, "download");
      expect(Object.keys(await hashes(dst))).toEqual(["keep.txt"]);
    },
    T,
  );

  test(
    "copy mode keeps the remote file after a local deletion",
    async () => {
      const src = freshDir();
      await writeTree(src, { "keep.txt": "keep", "gone.txt": "gone" });
      await sync(spec(whole("copy")), "gamma", src, "upload");
      await rm(join(src, "gone.txt"));
      await sync(spec(whole("copy")), "gamma", src, "upload");
      expect(await s3.keys("kiln-state", "tenants/gamma/")).toEqual(["tenants/gamma/gone.txt", "tenants/gamma/keep.txt"]);

      const dst = freshDir();
      await writeTree(dst, { "local-only.txt": "mine" });
      await sync(spec(whole("copy")), "gamma", dst, "download");
      expect(Object.keys(await hashes(dst)).sort()).toEqual(["gone.txt", "keep.txt", "local-only.txt"]);
    },
    T,
  );

  test(
    "per-tenant prefixes keep tenants apart",
    async () => {
      await s3.bucket("shared-state");
      const s = spec(whole(), { bucket: "shared-state" });
      const a = freshDir();
      const b = freshDir();
      await writeTree(a, { "a.txt": "tenant a", "same.txt": "from a" });
      await writeTree(b, { "b.txt": "tenant b", "same.txt": "from b" });
      await sync(s, "tenant-a", a, "upload");
      await sync(s, "tenant-b", b, "upload");

      const dst = freshDir();
      await sync(s, "tenant-a", dst, "download");
      expect(Object.keys(await hashes(dst)).sort()).toEqual(["a.txt", "same.txt"]);
      expect(await readFile(join(dst, "same.txt"), "utf8")).toBe("from a");
    },
    T,
  );

  test(
    "mappings run only in their directions; a single-file mapping uses copyto",
    async () => {
      const src = freshDir();
      await writeTree(src, { "db.sqlite": randomBytes(4096), "cache/x": "x", "inbox/y": "y" });
      const s = spec([
        { path: "db.sqlite", direction: "bidirectional", mode: "sync" },
        { path: "/cache/", direction: "upload", mode: "copy" },
        { path: "inbox", direction: "download", mode: "sync" },
      ]);
      const up = collector();
      const res = await sync(s, "delta", src, "upload", up.log);
      expect(res.mappings).toBe(2);
      expect(await s3.keys("kiln-state", "tenants/delta/")).toEqual(["tenants/delta/cache/x", "tenants/delta/db.sqlite"]);
      expect(up.lines.some((l) => l.text.includes("(copyto)"))).toBe(true);

      const dst = freshDir();
      const down = await sync(s, "delta", dst, "download");
      // db.sqlite (file) and inbox (nothing stored: an empty dir in S3 terms); cache is upload-only
      expect(down.mappings).toBe(2);
      expect(await hashes(dst)).toEqual({ "db.sqlite": (await hashes(src))["db.sqlite"] ?? "" });
    },
    T,
  );

  test(
    "download with nothing stored (no bucket yet) is a no-op",
    async () => {
      const dst = freshDir();
      const out = collector();
      const res = await sync(spec(whole(), { bucket: "never-created" }), "epsilon", dst, "download", out.log);
      expect(res.mappings).toBe(0);
      expect(out.lines.some((l) => l.text.includes("nothing stored"))).toBe(true);
    },
    T,
  );

  test(
    "refused credentials throw a useful StepError without the keys",
    async () => {
      const keyId = "WRONGKEYID0123456";
      const secretKey = "TopSecretValue-do-not-print-9876";
      const src = freshDir();
      await writeTree(src, { "a.txt": "a" });
      const out = collector();
      const err = await sync(
        spec(whole(), { accessKeyId: new Secret(keyId), secretAccessKey: new Secret(secretKey), rcloneFlags: FAST_FAIL }),
        "zeta",
        src,
        "upload",
        out.log,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      const e = err as StepError;
      expect(e.message).toContain("state upload of / failed");
      expect(e.message).toContain("InvalidAccessKeyId");
      expect(e.hint).toContain("keys");
      const everything = [e.message, e.hint ?? "", ...out.lines.map((l) => l.text)].join("\n");
      expect(everything).not.toContain(keyId);
      expect(everything).not.toContain(secretKey);
    },
    T,
  );

  test(
    "a stopped server throws, within seconds with Kiln's default retries, a StepError saying the connection failed",
    async () => {
      const gone = await startS3();
      await gone.stop();
      const src = freshDir();
      await writeTree(src, { "a.txt": "a" });
      const err = await syncer
        .run({ spec: spec(whole(), { endpoint: gone.endpoint }), tenantId: "eta", stateDir: src, direction: "upload", log: () => {} })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).message).toMatch(/state upload of \/ failed \(rclone exit \d+\):.*connection refused/);
    },
    T,
  );

  test(
    "aborting stops rclone and throws a StepError",
    async () => {
      const gone = await startS3();
      await gone.stop(); // rclone would retry for seconds
      const src = freshDir();
      await writeTree(src, { "a.txt": "a" });
      const ac = new AbortController();
      const running = syncer
        .run({ spec: spec(whole(), { endpoint: gone.endpoint }), tenantId: "theta", stateDir: src, direction: "upload", signal: ac.signal, log: () => {} })
        .catch((e: unknown) => e);
      await until("rclone to be running on the state dir", async () => processesOn(src).length > 0, 30_000);
      ac.abort();
      const err = await running;
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).message).toContain("cancelled");
      expect(processesOn(src)).toEqual([]); // rclone was stopped, not left retrying
    },
    T,
  );

  test(
    "hasState: true once anything is stored under the tenant's prefix (even nested), false for none or no bucket",
    async () => {
      const q = (tenantId: string, over: Partial<SyncSink> = {}) => ({ spec: spec(whole(), over), tenantId, log: () => {} });
      expect(await syncer.hasState(q("kappa"))).toBe(false);
      expect(await syncer.hasState(q("kappa", { bucket: "no-such-bucket" }))).toBe(false);
      const src = freshDir();
      await writeTree(src, { "only/nested/file.txt": "x" });
      await sync(spec(whole()), "kappa", src, "upload");
      expect(await syncer.hasState(q("kappa"))).toBe(true);
      expect(await syncer.hasState(q("kapp"))).toBe(false); // a prefix of the id is another tenant
      // with rclone_flags the direct probe stands aside and rclone answers: the same answers
      const viaRclone = { rcloneFlags: ["--fast-list"] };
      expect(await syncer.hasState(q("kappa", viaRclone))).toBe(true);
      expect(await syncer.hasState(q("kapp", viaRclone))).toBe(false);
      expect(await syncer.hasState(q("kappa", { ...viaRclone, bucket: "no-such-bucket" }))).toBe(false);
      const gone = await startS3();
      await gone.stop();
      const err = await syncer.hasState(q("kappa", { endpoint: gone.endpoint })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).message).toContain("state check of kilns3:kiln-state/tenants/kappa failed");
    },
    T,
  );

  test(
    "RCLONE_* and AWS_CA_BUNDLE in the base env do not reach rclone",
    async () => {
      const leaky = new RcloneSyncer({ baseEnv: { ...childEnvOf(process.env), RCLONE_DRY_RUN: "true", AWS_CA_BUNDLE: "/nonexistent/ca.pem" } });
      const src = freshDir();
      await writeTree(src, { "a.txt": "a" });
      const res = await leaky.run({ spec: spec(whole()), tenantId: "iota", stateDir: src, direction: "upload", log: () => {} });
      expect(res.mappings).toBe(1);
      // a dry run would have uploaded nothing
      expect(await s3.keys("kiln-state", "tenants/iota/")).toEqual(["tenants/iota/a.txt"]);
    },
    T,
  );
});

/**
 * Log offload against a real S3 server (s3rver) and real rclone: cold chunks move to segment
 * objects and leave the database; replay from seq 1 (the bus, and a Kiln's WebSocket) and the
 * search still see every line, in order, with no gap; a failed upload keeps everything local and
 * says why without the key; retention deletes segments with their objects; a deleted stream's
 * objects go too. Last, GET /deployments/:id/logs/storage on a real Kiln (auth, bad input, counts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RcloneLogObjects } from "../../src/adapters/rclone/log-objects.ts";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogLine } from "../../src/core/logs.ts";
import { Secret } from "../../src/core/secret.ts";
import { LogBus } from "../../src/logs/bus.ts";
import { LogOffload } from "../../src/logs/offload.ts";
import { LogRetention } from "../../src/logs/retention.ts";
import { streamDir } from "../../src/logs/segment-keys.ts";
import { TieredLogs } from "../../src/logs/tiered-logs.ts";
import { deploymentStream } from "../../src/logs/streams.ts";
import { failedDeployment, startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";

const BUCKET = "kiln-logs";
const PREFIX = "offload/test";
/** s3rver checks the key id, not the secret: a distinctive secret shows whether it leaks anywhere. */
const SECRET = "kiln-offload-secret-7f3a9c1e";
const HOUR = 3_600_000;

let s3: TestS3;
let tmp: string;
let store: SqliteStore;
let logs: TieredLogs;
let bus: LogBus;
/** Every message reported through onError, to check none carries the secret. */
const errors: string[] = [];
/** Every system line offload and retention told a stream (some streams are swept away later). */
const announced: string[] = [];
const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };

function objectsFor(target: Partial<{ endpoint: string; accessKeyId: string }> = {}) {
  return new RcloneLogObjects({
    target: {
      bucket: BUCKET,
      prefix: PREFIX,
      endpoint: target.endpoint ?? s3.endpoint,
      accessKeyId: new Secret(target.accessKeyId ?? s3.accessKeyId),
      secretAccessKey: new Secret(SECRET),
    },
    tempDir: join(tmp, "log-offload"),
    baseEnv,
  });
}

function offloadWith(objects: RcloneLogObjects, now: number) {
  return new LogOffload({
    tiers: store.logTiers,
    objects,
    streams: async () => (await store.logs.usage()).map((u) => u.stream),
    afterMs: HOUR,
    now: () => now,
    announce: (key, text) => {
      announced.push(text);
      bus.publish(key, "system", text);
    },
    onError: (err) => errors.push(err instanceof Error ? err.message : String(err)),
  });
}

/** Replays the stream from seq 1 through the bus until its last seq. */
async function replay(b: LogBus, key: string): Promise<LogLine[]> {
  const last = await b.lastSeq(key);
  const got: LogLine[] = [];
  const stop = await b.subscribe(key, 1, (l) => got.push(l));
  stop();
  expect(got[got.length - 1]?.seq).toBe(last);
  return got;
}

async function publish(key: string, n: number, text: (i: number) => string): Promise<void> {
  await bus.open(key);
  for (let i = 1; i <= n; i++) bus.publish(key, i % 3 === 0 ? "build" : "runtime", text(i));
  await bus.flush();
}

const localRows = (key: string) => {
  const db = new Database(join(tmp, "kiln.db"), { readonly: true });
  try {
    return db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM log_chunks WHERE stream = ?").get(key)!.n;
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket(BUCKET);
  tmp = mkdtempSync(join(tmpdir(), "kiln-offload-"));
  store = SqliteStore.open(join(tmp, "kiln.db"));
  logs = new TieredLogs({ hot: store.logs, tiers: store.logTiers, objects: objectsFor(), cacheSegments: 2, onError: (err) => errors.push(String(err)) });
  bus = new LogBus({ store: logs, maxChunkLines: 50 });
});

afterAll(async () => {
  await bus?.close();
  await store?.close();
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("log offload (s3rver + rclone)", () => {
  const key = "dep-offload";

  test("cold chunks become segment objects and leave the database; replay and search see every line", async () => {
    await publish(key, 1000, (i) => (i === 42 ? "payment needle-42 failed" : `GET /ok ${i} 200`));
    const offload = offloadWith(objectsFor(), Date.now() + 2 * HOUR);
    const [done] = await offload.pass();
    // 20 chunks of 50: all but the newest go cold.
    expect(done).toEqual({ stream: key, lines: 950, segments: 1, firstSeq: 1, lastSeq: 950 });
    await bus.flush();
    const storage = await logs.storage(key);
    expect(storage.cold).toEqual({ segments: 1, lines: 950, bytes: expect.any(Number), firstSeq: 1, lastSeq: 950 });
    expect(storage.hot.firstSeq).toBe(951);
    expect(localRows(key)).toBe(storage.hot.chunks);
    const segs = await store.logTiers.segments(key);
    expect(await s3.keys(BUCKET, `${PREFIX}/`)).toEqual(segs.map((s) => `${PREFIX}/${s.key}`));
    expect(segs[0]!.key).toBe(`${streamDir(key)}/000000000001-000000000950.kseg`);

    const lines = await replay(bus, key);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i + 1));
    expect(lines[41]!.text).toBe("payment needle-42 failed");
    expect(lines[999]!.text).toBe("GET /ok 1000 200");
    expect(lines[1000]!.text).toBe(`offloaded 950 lines (seq 1–950) to s3://${BUCKET}/${PREFIX} in 1 segment; they are read back from there`);

    // A restarted reader (fresh bus, empty cache) numbers on and replays the same.
    const fresh = new TieredLogs({ hot: store.logs, tiers: store.logTiers, objects: objectsFor() });
    const bus2 = new LogBus({ store: fresh });
    expect(await bus2.lastSeq(key)).toBe(1001);
    expect((await replay(bus2, key)).map((l) => l.text)).toEqual(lines.map((l) => l.text));
    // Reads from the middle of a segment and across into the chunks.
    expect((await fresh.read(key, 940, 20)).map((l) => l.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 940 + i));
    await bus2.close();

    const found = await logs.search(key, { text: "NEEDLE-42", limit: 10 });
    expect(found.lines.map((l) => l.seq)).toEqual([42]);
    expect(found.next).toBeNull();
    // Pages run newest first from the chunks into the segment, with a cursor that carries across.
    const p1 = await logs.search(key, { streams: ["build"], sinceSeq: 940, limit: 5 });
    expect(p1.lines.map((l) => l.seq)).toEqual([999, 996, 993, 990, 987]);
    const all: number[] = [];
    let before: number | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await logs.search(key, { streams: ["build"], sinceSeq: 900, limit: 7, ...(before ? { before } : {}) });
      all.push(...page.lines.map((l) => l.seq));
      if (page.next === null) break;
      before = page.next;
    }
    expect(all).toEqual(Array.from({ length: 34 }, (_, i) => 999 - 3 * i));
    // A bounded scan stops inside the segment and resumes there.
    const budgeted = await logs.search(key, { text: "needle-42", limit: 10, scanBudget: 100 });
    expect(budgeted.lines).toEqual([]);
    expect(budgeted.next).not.toBeNull();
  }, 120_000);

  test("an upload that fails (wrong key id, server down) keeps every line local, says why once, without the key; the next pass moves them", async () => {
    const other = "tenant:echo:acme";
    await publish(other, 120, (i) => `tenant line ${i}`);
    const before = await logs.storage(other);
    const down = await startS3();
    await down.stop();
    for (const objects of [objectsFor({ accessKeyId: "WRONGKEYID" }), objectsFor({ endpoint: down.endpoint })]) {
      const offload = offloadWith(objects, Date.now() + 2 * HOUR);
      await offload.pass(); // told on the stream; the second pass fails alike and is not told again
      const result = (await offload.pass()).find((r) => r.stream === other)!;
      expect(result.lines).toBe(0);
      expect(result.error).toContain("log offload upload of tenant_3aecho_3aacme/000000000001-");
      expect(result.error).toContain("failed (rclone exit");
      await bus.flush();
      const after = await logs.storage(other);
      expect(after.cold.segments).toBe(0);
      expect(after.hot.firstSeq).toBe(1);
      expect(after.hot.lines).toBeGreaterThanOrEqual(before.hot.lines);
    }
    expect(await s3.keys(BUCKET, `${PREFIX}/${streamDir(other)}/`)).toEqual([]);
    const told = (await logs.read(other, 121, 100)).map((l) => l.text);
    expect(told.length).toBe(2);
    expect(told[0]).toStartWith(`log offload to s3://${BUCKET}/${PREFIX} failed; the lines stay here and are tried again: log offload upload of`);
    expect(told.join("\n")).toContain("403");

    const [done] = (await offloadWith(objectsFor(), Date.now() + 2 * HOUR).pass()).filter((r) => r.stream === other);
    expect(done).toMatchObject({ segments: 1, firstSeq: 1 });
    expect(done!.lines).toBeGreaterThanOrEqual(120);
    expect((await replay(bus, other)).slice(0, 120).map((l) => l.text)).toEqual(Array.from({ length: 120 }, (_, i) => `tenant line ${i + 1}`));
  }, 120_000);

  test("retention removes a segment and its object, and says so; numbering carries on", async () => {
    const key3 = "dep-retention";
    await publish(key3, 200, (i) => `old ${i}`);
    expect((await offloadWith(objectsFor(), Date.now() + 2 * HOUR).pass()).find((r) => r.stream === key3)).toMatchObject({ lines: 150 });
    const seg = (await store.logTiers.segments(key3))[0]!;
    expect(await s3.keys(BUCKET, `${PREFIX}/${seg.key}`)).toEqual([`${PREFIX}/${seg.key}`]);
    const retention = new LogRetention({
      logs,
      maxAgeMs: 86_400_000,
      maxBytes: 1024 * 1024 * 1024,
      now: () => Date.now() + 10 * 86_400_000,
      announce: (k, text) => void bus.publish(k, "system", text),
    });
    const swept = (await retention.sweep()).find((s) => s.stream === key3)!;
    expect(swept.segments).toBe(1);
    expect(swept.lines).toBeGreaterThanOrEqual(150);
    expect(await s3.keys(BUCKET, `${PREFIX}/${streamDir(key3)}/`)).toEqual([]);
    expect(await store.logTiers.segments(key3)).toEqual([]);
    await bus.flush();
    const left = await replay(bus, key3);
    expect(left[0]!.seq).toBe(swept.throughSeq + 1);
    const notice = left[left.length - 1]!.text;
    expect(notice).toStartWith(`log retention removed ${swept.lines} stored lines through seq ${swept.throughSeq} (`);
    expect(notice).toContain("1 offloaded segment among them, objects deleted");
  }, 120_000);

  test("deleting a stream deletes its objects; no line, error or command carries the secret key", async () => {
    const gone = "dep-deleted";
    await publish(gone, 100, (i) => `doomed ${i}`);
    expect((await offloadWith(objectsFor(), Date.now() + 2 * HOUR).pass()).find((r) => r.stream === gone)).toMatchObject({ lines: 50 });
    expect(await s3.keys(BUCKET, `${PREFIX}/${streamDir(gone)}/`)).toHaveLength(1);
    await bus.forget(gone);
    await logs.deleteFor(gone);
    expect(await s3.keys(BUCKET, `${PREFIX}/${streamDir(gone)}/`)).toEqual([]);
    expect(await store.logTiers.segments(gone)).toEqual([]);
    expect(localRows(gone)).toBe(0);

    expect(errors.length).toBeGreaterThan(0); // the failed uploads above
    // Told once per stream for each failing offloader: "tenant:echo:acme" and "dep-offload" (its newest lines), twice each.
    expect(announced.filter((t) => t.includes("failed; the lines stay here")).length).toBe(4);
    const everything = [...errors, ...announced];
    for (const u of await logs.usage()) everything.push(...(await logs.read(u.stream, 1, 100_000)).map((l) => l.text));
    for (const text of everything) expect(text).not.toContain(SECRET);
  }, 120_000);
});

describe("GET /deployments/:id/logs/storage on a Kiln with offload on", () => {
  let kiln: TestKiln;
  let id: string;
  let s3k: TestS3;

  beforeAll(async () => {
    s3k = await startS3();
    await s3k.bucket(BUCKET);
    kiln = await startTestKiln({
      KILN_LOG_OFFLOAD_URL: `s3://${BUCKET}/kiln`,
      KILN_LOG_OFFLOAD_ENDPOINT: s3k.endpoint,
      KILN_LOG_OFFLOAD_ACCESS_KEY_ID: s3k.accessKeyId,
      KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY: SECRET,
      KILN_LOG_OFFLOAD_AFTER_HOURS: "0",
    });
    // The pass Kiln runs at boot must be over before the lines exist, or it takes part of them.
    await kiln.logOffload!.pass();
    id = await failedDeployment(kiln, "log-offload");
    for (let i = 1; i <= 600; i++) kiln.bus.publish(deploymentStream(id), "runtime", i === 7 ? "cold needle line" : `request ${i}`);
    await kiln.bus.flush();
    // AFTER_HOURS=0 offloads lines older than the pass's now, in ms: lines stamped in that very ms stay.
    await Bun.sleep(5);
  }, 180_000);

  afterAll(async () => {
    await kiln?.stop();
    await s3k?.stop();
  }, 120_000);

  test("answers hot and cold counts; the WebSocket replays offloaded lines and the search finds them", async () => {
    const passes = await kiln.logOffload!.pass();
    const mine = passes.find((p) => p.stream === id)!;
    expect(mine.lines).toBeGreaterThan(500);
    const res = await kiln.api(`/deployments/${id}/logs/storage`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { offload: { url: string; afterHours: number }; hot: { lines: number; firstSeq: number }; cold: { segments: number; lines: number; firstSeq: number; lastSeq: number } };
    expect(body.offload).toEqual({ url: `s3://${BUCKET}/kiln`, afterHours: 0 });
    expect(body.cold).toMatchObject({ segments: 1, lines: mine.lines, firstSeq: 1, lastSeq: mine.lastSeq });
    expect(body.hot.firstSeq).toBe(mine.lastSeq + 1);
    expect(await s3k.keys(BUCKET, "kiln/")).toHaveLength(1);

    const last = await kiln.bus.lastSeq(deploymentStream(id));
    const lines = await kiln.logs(id, { since: 1, until: (ls) => ls.length >= last, timeoutMs: 20_000 });
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(lines.some((l) => l.text === "cold needle line")).toBe(true);
    expect(lines[lines.length - 1]!.text).toContain(`offloaded ${mine.lines} lines (seq 1–${mine.lastSeq}) to s3://${BUCKET}/kiln`);

    const search = await kiln.api(`/deployments/${id}/logs?q=needle`);
    expect(((await search.json()) as { lines: LogLine[] }).lines.map((l) => l.text)).toEqual(["cold needle line"]);
    const metrics = await (await kiln.api("/metrics")).text();
    expect(metrics).toContain(`kiln_log_offloaded_lines_total ${mine.lines}`);
    const doc = (await (await kiln.api("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(doc.paths).toHaveProperty("/deployments/{id}/logs/storage");
  }, 120_000);

  test("401 without the token, 400 for a malformed id, 404 for an unknown deployment", async () => {
    const anon = await fetch(`${kiln.apiUrl}/api/v1/deployments/${id}/logs/storage`);
    expect(anon.status).toBe(401);
    const bad = await kiln.api(`/deployments/${"x".repeat(65)}/logs/storage`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("id");
    const missing = await kiln.api("/deployments/nosuchapp/logs/storage");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("nosuchapp");
  });
});

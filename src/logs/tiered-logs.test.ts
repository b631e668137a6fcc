/**
 * TieredLogs' logic with the object store in memory (the real one, s3rver + rclone, is exercised in
 * test/logs/offload.test.ts): an offloaded stream answers reads and searches exactly as the same
 * stream never offloaded.
 */
import { describe, expect, test } from "bun:test";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import type { KilnError } from "../core/errors.ts";
import type { LogLine } from "../core/logs.ts";
import type { LogObjects } from "../core/ports/log-objects.ts";
import type { LogSearch } from "../core/ports/store.ts";
import { LogOffload } from "./offload.ts";
import { TieredLogs } from "./tiered-logs.ts";

class MemoryObjects implements LogObjects {
  readonly url = "s3://mem/logs";
  readonly objects = new Map<string, Uint8Array>();
  gets = 0;
  failing = false;
  async put(key: string, body: Uint8Array) {
    if (this.failing) throw new Error("unreachable");
    this.objects.set(key, body);
  }
  async get(key: string) {
    this.gets++;
    if (this.failing) throw new Error("unreachable");
    const body = this.objects.get(key);
    if (!body) throw new Error(`no object ${key}`);
    return body;
  }
  async remove(key: string) {
    if (this.failing) throw new Error("unreachable");
    this.objects.delete(key);
  }
  async removeAll(dir: string) {
    for (const k of [...this.objects.keys()]) if (k.startsWith(`${dir}/`)) this.objects.delete(k);
  }
}

const S = "dep-a";
const kinds = ["build", "runtime", "system"] as const;
const line = (seq: number): LogLine => ({ seq, ts: seq * 1000, stream: kinds[seq % 3]!, text: seq % 17 === 0 ? `Timeout at ${seq}` : `ok ${seq}` });

/** 1000 lines in chunks of 40, and (by `segmentBytes`) several segments of the oldest 960. */
async function setup(offloaded: boolean) {
  const store = SqliteStore.open(":memory:");
  for (let f = 1; f <= 1000; f += 40) await store.logs.appendChunk(S, Array.from({ length: Math.min(40, 1001 - f) }, (_, i) => line(f + i)));
  const objects = new MemoryObjects();
  const logs = new TieredLogs({ hot: store.logs, tiers: store.logTiers, objects, cacheSegments: 2 });
  const told: string[] = [];
  if (offloaded) {
    const offload = new LogOffload({ tiers: store.logTiers, objects, streams: async () => [S], afterMs: 0, now: () => 1e12, segmentBytes: 2000, announce: (_, t) => void told.push(t) });
    await offload.pass();
  }
  return { store, logs, objects, told };
}

describe("TieredLogs", () => {
  test("an offloaded stream reads like one never offloaded, from any seq, at any page size", async () => {
    const hot = await setup(false);
    const cold = await setup(true);
    const segs = await cold.store.logTiers.segments(S);
    expect(segs.length).toBeGreaterThan(3);
    expect(segs[segs.length - 1]!.lastSeq).toBe(960);
    expect(cold.told).toEqual([`offloaded 960 lines (seq 1–960) to s3://mem/logs in ${segs.length} segments; they are read back from there`]);
    expect(await cold.logs.lastSeq(S)).toBe(1000);
    for (const [since, limit] of [[1, 1000], [1, 7], [39, 3], [segs[1]!.firstSeq - 1, 2], [955, 10], [961, 5], [1000, 5], [1001, 5]] as const) {
      expect(await cold.logs.read(S, since, limit)).toEqual(await hot.logs.read(S, since, limit));
    }
  });

  test("search answers the same pages (lines, cursor, scanned) across both tiers", async () => {
    const hot = await setup(false);
    const cold = await setup(true);
    const queries: LogSearch[] = [
      { text: "timeout", limit: 5 },
      { text: "TIMEOUT", streams: ["build"], limit: 3, before: 980 },
      { limit: 50, sinceSeq: 900, untilSeq: 990 },
      { text: "ok", sinceTs: 100_000, untilTs: 300_000, limit: 1000 },
      { text: "timeout", limit: 100, scanBudget: 120 },
      { streams: ["system"], limit: 10, before: 500 },
    ];
    for (const q of queries) {
      let before = q.before;
      for (let page = 0; page < 200; page++) {
        const query = { ...q, ...(before ? { before } : {}) };
        const want = await hot.logs.search(S, query);
        expect(await cold.logs.search(S, query)).toEqual(want);
        if (want.next === null) break;
        before = want.next;
      }
    }
    // Segments came from the cache for most of that.
    expect(cold.objects.gets).toBeLessThan(200);
  });

  test("an unreachable target fails the read with what to do, and is asked again next time", async () => {
    const { logs, objects } = await setup(true);
    objects.failing = true;
    const err = (await logs.read(S, 1, 10).then(
      () => null,
      (e: unknown) => e,
    )) as KilnError;
    expect(err.kind).toBe("unavailable");
    expect(err.message).toStartWith("offloaded log lines 1–");
    expect(err.message).toContain("could not be read from s3://mem/logs: unreachable");
    objects.failing = false;
    expect((await logs.read(S, 1, 10)).map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("lastSeq holds when every stored line is cold", async () => {
    const { store, logs } = await setup(true);
    await store.logs.deleteFor(S); // the chunks only: what is left lives in segments
    expect(await logs.lastSeq(S)).toBe(960);
    expect((await logs.read(S, 955, 100)).map((l) => l.seq)).toEqual([955, 956, 957, 958, 959, 960]);
  });

  test("without a target, cold lines are skipped like removed ones", async () => {
    const { store } = await setup(true);
    const off = new TieredLogs({ hot: store.logs, tiers: store.logTiers, objects: null });
    expect((await off.read(S, 1, 3)).map((l) => l.seq)).toEqual([961, 962, 963]);
    expect((await off.search(S, { text: "timeout", limit: 100 })).lines.every((l) => l.seq > 960)).toBe(true);
  });

  test("prune by size removes segments first, object then row, and counts them", async () => {
    const { store, logs, objects } = await setup(true);
    const before = await logs.storage(S);
    const firstSeg = (await store.logTiers.segments(S))[0]!;
    const pruned = await logs.prune(S, { before: 0, maxBytes: before.hot.bytes + before.cold.bytes - 1 });
    expect(pruned).toEqual({ lines: firstSeg.lines, bytes: firstSeg.bytes, throughSeq: firstSeg.lastSeq, segments: 1 });
    expect(objects.objects.has(firstSeg.key)).toBe(false);
    expect((await logs.read(S, 1, 1))[0]!.seq).toBe(firstSeg.lastSeq + 1);
    // A failing delete keeps the segment (and its lines) for the next sweep.
    objects.failing = true;
    expect(await logs.prune(S, { before: 0, maxBytes: 0 })).toEqual({ lines: 0, bytes: 0, throughSeq: 0, segments: 0 });
    expect((await logs.storage(S)).cold.segments).toBe(before.cold.segments - 1);
  });

  test("a segment is not recorded when its chunks changed after packing", async () => {
    const { store } = await setup(false);
    const chunks = await store.logTiers.coldChunks(S, 1e12, 1e9);
    expect(chunks.map((c) => c.firstSeq)).toEqual(Array.from({ length: 24 }, (_, i) => 1 + 40 * i)); // never the newest
    await store.logs.prune(S, { before: 41_000, maxBytes: 1e9 }); // retention took the first chunk meanwhile
    const seg = { stream: S, firstSeq: 1, lastSeq: 960, firstTs: 1000, lastTs: 960_000, lines: 960, bytes: 1, key: "x", createdAt: 0 };
    expect(await store.logTiers.commitSegment(seg)).toBe(false);
    expect(await store.logTiers.segments(S)).toEqual([]);
    expect((await store.logTiers.storage(S)).hot.lines).toBe(960);
  });
});

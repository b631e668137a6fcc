import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import { KilnError } from "../../src/core/errors.ts";
import type { LogLine } from "../../src/core/logs.ts";
import type { LogRepo } from "../../src/core/ports/store.ts";
import { LogBus } from "../../src/logs/bus.ts";
import { MAX_LINE_BYTES } from "../../src/logs/lines.ts";
import { until } from "../helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-bus-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `bus-${++n}.db`);

const DEP = "dep-1";

/**
 * The real store's log repo with a random delay before each call, to widen every race window.
 * `settled()` resolves once every write begun so far has landed.
 */
function sluggish(repo: LogRepo, maxDelayMs: number): LogRepo & { settled(): Promise<void> } {
  const pause = () => Bun.sleep(Math.random() * maxDelayMs);
  const writes = new Set<Promise<void>>();
  return {
    settled: async () => {
      while (writes.size > 0) await Promise.allSettled([...writes]);
    },
    appendChunk: (id, lines) => {
      const write = (async () => {
        await pause();
        await repo.appendChunk(id, lines);
      })();
      writes.add(write);
      void write.catch(() => {}).finally(() => writes.delete(write));
      return write;
    },
    read: async (id, since, limit) => {
      await pause();
      return repo.read(id, since, limit);
    },
    lastSeq: async (id) => {
      await pause();
      return repo.lastSeq(id);
    },
    deleteFor: (id) => repo.deleteFor(id),
  };
}

function chunkRows(path: string): number {
  const db = new Database(path, { readonly: true });
  const row = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM log_chunks").get();
  db.close();
  return row?.n ?? 0;
}

/** Asserts the seqs are from..to with no gap and no repeat. */
function expectRun(seen: LogLine[], from: number, to: number): void {
  const seqs = seen.map((l) => l.seq);
  expect(seqs.length).toBe(to - from + 1);
  expect(seqs[0]).toBe(from);
  expect(seqs[seqs.length - 1]).toBe(to);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1]! + 1) throw new Error(`seq ${seqs[i - 1]} is followed by ${seqs[i]}`);
  }
}

describe("LogBus", () => {
  test("publish numbers lines densely from 1, one per newline, capped at 8 KiB", async () => {
    const store = SqliteStore.open(":memory:");
    const bus = new LogBus({ store: store.logs });
    await bus.open(DEP);

    expect(bus.publish(DEP, "build", "first").seq).toBe(1);
    const last = bus.publish(DEP, "build", "two\r\nthree\n");
    expect(last).toMatchObject({ seq: 3, stream: "build", text: "three" });
    const long = bus.publish(DEP, "runtime", "z".repeat(50_000));
    expect(long.seq).toBe(4);
    expect(Buffer.byteLength(long.text)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(await bus.lastSeq(DEP)).toBe(4);

    await bus.close();
    expect((await store.logs.read(DEP, 1, 10)).map((l) => l.text.slice(0, 5))).toEqual(["first", "two", "three", "zzzzz"]);
    await store.close();
  });

  test("publishing to a deployment that was never opened is a bug and throws", async () => {
    const store = SqliteStore.open(":memory:");
    const bus = new LogBus({ store: store.logs });
    expect(() => bus.publish("nope", "system", "hi")).toThrow(KilnError);
    expect(() => bus.sink("nope")).toThrow(KilnError);
    await bus.open("nope");
    bus.sink("nope")("system", "now fine");
    expect(await bus.lastSeq("nope")).toBe(1);
    await bus.close();
    await store.close();
  });

  test("4 writers, 5,000 lines, 3 subscribers joining mid-stream: each sees a contiguous run to the end", async () => {
    const path = freshPath();
    const store = SqliteStore.open(path);
    const bus = new LogBus({ store: sluggish(store.logs, 3), flushIntervalMs: 5, maxChunkLines: 64 });
    await bus.open(DEP);

    const WRITERS = 4;
    const PER_WRITER = 1250;
    const TOTAL = WRITERS * PER_WRITER;
    let published = 0;

    const writer = async (w: number) => {
      for (let i = 0; i < PER_WRITER; ) {
        const burst = 1 + Math.floor(Math.random() * 25);
        for (let b = 0; b < burst && i < PER_WRITER; b++, i++) {
          bus.publish(DEP, "build", `w${w}-${i}`);
          published++;
        }
        await Bun.sleep(Math.random() < 0.5 ? 0 : 1);
      }
    };

    const seen: LogLine[][] = [[], [], []];
    const sinces: number[] = [];
    const joinWhen = async (index: number, atLeast: number, since: () => number) => {
      while (published < atLeast) await Bun.sleep(0);
      const from = since();
      sinces[index] = from;
      return bus.subscribe(DEP, from, (line) => seen[index]!.push(line));
    };

    const [, unsubscribes] = await Promise.all([
      Promise.all([0, 1, 2, 3].map(writer)),
      Promise.all([
        joinWhen(0, 600, () => 1),
        joinWhen(1, 2000, () => Math.floor(published / 2)),
        joinWhen(2, 3500, () => published + 1),
      ]),
    ]);
    expect(published).toBe(TOTAL);

    for (let s = 0; s < 3; s++) expectRun(seen[s]!, sinces[s]!, TOTAL);
    expect(sinces[1]).toBeGreaterThan(1);
    expect(sinces[2]).toBeGreaterThan(sinces[1]!);
    expect(sinces[2]).toBeLessThan(TOTAL);

    // Every writer's lines are all there, in the order it wrote them.
    for (let w = 0; w < WRITERS; w++) {
      const mine = seen[0]!.filter((l) => l.text.startsWith(`w${w}-`)).map((l) => l.text);
      expect(mine).toEqual(Array.from({ length: PER_WRITER }, (_, i) => `w${w}-${i}`));
    }

    for (const stop of unsubscribes) stop();
    await bus.close();
    expect(await store.logs.read(DEP, 1, TOTAL + 10)).toEqual(seen[0]!);
    const rows = chunkRows(path);
    expect(rows).toBeGreaterThanOrEqual(Math.ceil(TOTAL / 64));
    expect(rows).toBeLessThan(TOTAL / 10);
    await store.close();
  });

  test("seq continues after a restart: new store, new bus", async () => {
    const path = freshPath();
    const first = SqliteStore.open(path);
    const bus1 = new LogBus({ store: first.logs });
    await bus1.open(DEP);
    for (let i = 1; i <= 10; i++) bus1.publish(DEP, "build", `before ${i}`);
    await bus1.close();
    await first.close();

    const second = SqliteStore.open(path);
    const bus2 = new LogBus({ store: second.logs });
    await Promise.all([bus2.open(DEP), bus2.open(DEP)]);
    expect(await bus2.lastSeq(DEP)).toBe(10);
    expect(bus2.publish(DEP, "runtime", "after").seq).toBe(11);

    const seen: LogLine[] = [];
    const stop = await bus2.subscribe(DEP, 1, (l) => seen.push(l));
    expectRun(seen, 1, 11);
    expect(seen[10]).toMatchObject({ text: "after", stream: "runtime" });
    stop();
    await bus2.close();
    await second.close();
  });

  test("a full chunk is written at once; the rest waits for the timer", async () => {
    const path = freshPath();
    const store = SqliteStore.open(path);
    // The timer is far off (2 s): the two full chunks are written long before it fires.
    const bus = new LogBus({ store: store.logs, flushIntervalMs: 2000, maxChunkLines: 10 });
    await bus.open(DEP);
    for (let i = 0; i < 25; i++) bus.publish(DEP, "build", `l${i}`);
    await until("the two full chunks to be written", async () => (await store.logs.lastSeq(DEP)) >= 20, 1500);
    expect(await store.logs.lastSeq(DEP)).toBe(20);
    expect(chunkRows(path)).toBe(2);

    // A subscriber now replays from the store (1–20) and from memory (21–25).
    const seen: LogLine[] = [];
    const stop = await bus.subscribe(DEP, 3, (l) => seen.push(l));
    expectRun(seen, 3, 25);

    await until("the timer to write the rest", async () => (await store.logs.lastSeq(DEP)) >= 25, 10_000);
    expect(await store.logs.lastSeq(DEP)).toBe(25);
    expect(chunkRows(path)).toBe(3);
    stop();
    await bus.close();
    await store.close();
  });

  test("lines whose write is still in flight are replayed from memory", async () => {
    const store = SqliteStore.open(":memory:");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated: LogRepo = {
      read: (id, since, limit) => store.logs.read(id, since, limit),
      lastSeq: (id) => store.logs.lastSeq(id),
      deleteFor: (id) => store.logs.deleteFor(id),
      appendChunk: async (id, lines) => {
        await gate;
        await store.logs.appendChunk(id, lines);
      },
    };
    const bus = new LogBus({ store: gated, flushIntervalMs: 60_000, maxChunkLines: 5 });
    await bus.open(DEP);
    for (let i = 1; i <= 5; i++) bus.publish(DEP, "build", `l${i}`); // a full chunk: its write starts, and waits

    const seen: LogLine[] = [];
    const stop = await bus.subscribe(DEP, 2, (l) => seen.push(l));
    bus.publish(DEP, "build", "l6");
    expectRun(seen, 2, 6);

    release();
    await bus.flush();
    expect(await store.logs.lastSeq(DEP)).toBe(6);
    stop();
    await bus.close();
    await store.close();
  });

  test("unsubscribe stops delivery; a throwing subscriber is reported and others still get lines", async () => {
    const store = SqliteStore.open(":memory:");
    const errors: unknown[] = [];
    const bus = new LogBus({ store: store.logs, onError: (e) => errors.push(e) });
    await bus.open(DEP);
    const got: number[] = [];
    const stopBad = await bus.subscribe(DEP, 1, () => {
      throw new Error("subscriber bug");
    });
    const stop = await bus.subscribe(DEP, 1, (l) => got.push(l.seq));
    bus.publish(DEP, "system", "a");
    stop();
    bus.publish(DEP, "system", "b");
    expect(got).toEqual([1]);
    expect(errors.length).toBe(2);
    stopBad();
    await bus.close();
    await store.close();
  });

  test("a subscriber from a future seq gets only lines from there on", async () => {
    const store = SqliteStore.open(":memory:");
    const bus = new LogBus({ store: store.logs });
    await bus.open(DEP);
    bus.publish(DEP, "build", "1\n2\n3");
    const got: number[] = [];
    const stop = await bus.subscribe(DEP, 6, (l) => got.push(l.seq));
    bus.publish(DEP, "build", "4\n5\n6\n7");
    expect(got).toEqual([6, 7]);
    stop();
    await bus.close();
    await store.close();
  });

  test("forget drops unwritten lines and subscribers; later publishes are discarded", async () => {
    const store = SqliteStore.open(":memory:");
    const logs = sluggish(store.logs, 5);
    const bus = new LogBus({ store: logs, flushIntervalMs: 1, maxChunkLines: 4 });
    await bus.open(DEP);
    const got: number[] = [];
    await bus.subscribe(DEP, 1, (l) => got.push(l.seq));
    for (let i = 0; i < 10; i++) bus.publish(DEP, "build", `l${i}`);
    await bus.forget(DEP);
    await store.logs.deleteFor(DEP);

    expect(bus.publish(DEP, "build", "late").seq).toBe(0);
    await bus.flush();
    await logs.settled(); // every write the bus began has landed: none of them brought lines back

    expect(got.length).toBe(10);
    expect(await store.logs.lastSeq(DEP)).toBe(0);

    // Opening again starts from what the store holds.
    await bus.open(DEP);
    expect(bus.publish(DEP, "build", "again").seq).toBe(1);
    await bus.close();
    await store.close();
  });
});

describe("source marks", () => {
  test("each chunk is stored with the newest mark of each container and output among its lines", async () => {
    const store = SqliteStore.open(freshPath());
    const bus = new LogBus({ store: store.logs, maxChunkLines: 4, flushIntervalMs: 10_000 });
    await bus.open(DEP);
    const mark = (container: string, output: "stdout" | "stderr", ns: bigint, count = 1) => ({ container, output, ns, count });
    bus.publish(DEP, "runtime", "a1", mark("a", "stdout", 10n));
    bus.publish(DEP, "runtime", "a2", mark("a", "stdout", 10n, 2));
    bus.publish(DEP, "runtime", "b1", mark("b", "stdout", 11n));
    bus.publish(DEP, "system", "unmarked");
    // second chunk: a's stderr and a later a stdout line
    bus.publish(DEP, "runtime", "a3", mark("a", "stderr", 12n));
    bus.publish(DEP, "runtime", "a4", mark("a", "stdout", 13n));
    await bus.flush();
    expect((await store.logs.sourceMarks("a")).marks).toEqual([mark("a", "stderr", 12n), mark("a", "stdout", 13n)]);
    expect((await store.logs.sourceMarks("b")).marks).toEqual([mark("b", "stdout", 11n)]);
    expect((await store.logs.sourceMarks("nobody")).marks).toEqual([]);
    expect((await store.logs.sourceMarks("nobody")).keptSince).toBeGreaterThan(0);
    // A deleted stream's marks go with it; a forgotten container's too.
    await store.logs.forgetSource("b");
    expect((await store.logs.sourceMarks("b")).marks).toEqual([]);
    await store.logs.deleteFor(DEP);
    expect((await store.logs.sourceMarks("a")).marks).toEqual([]);
    await bus.close();
    await store.close();
  });
});

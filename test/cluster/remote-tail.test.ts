/**
 * Log lines across Kilns (src/logs/remote-tail.ts + LogBus.absorb) on one real Postgres: lines
 * published on one Kiln's bus reach subscribers on another's — one subscribed before, one in the
 * middle (replay from the store, then live) — each line once, in order, none missing; and the
 * second Kiln numbers on after them when it writes to the stream next (a takeover). Two Kilns
 * writing one stream at once (their seqs collide) end with every line stored once, densely numbered.
 */
import { expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresStore } from "../../src/adapters/store/postgres.ts";
import type { LogLine } from "../../src/core/logs.ts";
import { LogBus } from "../../src/logs/bus.ts";
import { RemoteLogTail } from "../../src/logs/remote-tail.ts";
import { usePostgres } from "../helpers/use-postgres.ts";
import { until } from "../helpers/wait.ts";

const pg = usePostgres();

/** Times a bus numbered its waiting lines again after a collision. */
let renumbered = 0;

async function kiln(instance: string) {
  const store = await PostgresStore.open(pg.url(), { max: 4 });
  const db = new SQL(pg.url(), { max: 2 });
  let tail: RemoteLogTail | null = null;
  const bus = new LogBus({ store: store.logs, flushIntervalMs: 20, onStored: (key, upTo) => tail?.stored(key, upTo), renumberOnConflict: true, onError: (err) => void (String(err).includes("numbered again") && renumbered++) });
  tail = await RemoteLogTail.start({ db, bus, logs: store.logs, instance });
  return {
    bus,
    tail,
    async stop() {
      await bus.close();
      await tail!.stop();
      await db.close();
      await store.close();
    },
  };
}

test("lines published on one Kiln reach the other's subscribers once, in order, across the replay/live seam", async () => {
  const a = await kiln("a");
  const b = await kiln("b");
  const key = "dep-remote" as Parameters<LogBus["open"]>[0];
  try {
    await a.bus.open(key);
    await b.bus.open(key);
    const early: LogLine[] = [];
    const late: LogLine[] = [];
    const stopEarly = await b.bus.subscribe(key, 1, (l) => early.push(l));
    const TOTAL = 3000;
    let stopLate: (() => void) | null = null;
    for (let i = 1; i <= TOTAL; i++) {
      a.bus.publish(key, "build", `line ${i}`);
      if (i % 100 === 0) await Bun.sleep(5); // chunks get stored and announced while publishing goes on
      if (i === 1500) stopLate = await b.bus.subscribe(key, 1, (l) => late.push(l));
    }
    await a.bus.flush();
    await until("both subscribers on b to have every line", async () => early.length >= TOTAL && late.length >= TOTAL, 20_000);
    await Bun.sleep(200); // nothing more may arrive
    const expected = Array.from({ length: TOTAL }, (_, i) => i + 1);
    expect(early.map((l) => l.seq)).toEqual(expected);
    expect(late.map((l) => l.seq)).toEqual(expected);
    expect(late.map((l) => l.text)).toEqual(expected.map((n) => `line ${n}`));
    stopEarly();
    stopLate?.();

    // b takes over writing (a's job moved there): it numbers on after a's lines.
    expect(await b.bus.lastSeq(key)).toBe(TOTAL);
    const next = b.bus.publish(key, "system", "taken over");
    expect(next.seq).toBe(TOTAL + 1);
    await b.bus.flush();
  } finally {
    await a.stop();
    await b.stop();
  }
}, 60_000);

test("two Kilns writing one stream at once: every line stored once, seqs dense, neither stream stuck", async () => {
  const a = await kiln("a2");
  const b = await kiln("b2");
  const store = await PostgresStore.open(pg.url(), { max: 1 });
  const key = "dep-both" as Parameters<LogBus["open"]>[0];
  try {
    await a.bus.open(key);
    await b.bus.open(key);
    const EACH = 500;
    renumbered = 0;
    // A subscriber on each Kiln, from the start: each must see exactly what is stored, in its order.
    const seenA: LogLine[] = [];
    const seenB: LogLine[] = [];
    const stopA = await a.bus.subscribe(key, 1, (l) => seenA.push(l));
    const stopB = await b.bus.subscribe(key, 1, (l) => seenB.push(l));
    for (let i = 1; i <= EACH; i++) {
      a.bus.publish(key, "system", `a ${i}`);
      b.bus.publish(key, "system", `b ${i}`);
      if (i % 50 === 0) await Bun.sleep(30); // chunks from both get stored in between
    }
    await until("both buses to store everything", async () => {
      await a.bus.flush();
      await b.bus.flush();
      return (await store.logs.lastSeq(key)) >= 2 * EACH;
    }, 20_000);
    expect(renumbered).toBeGreaterThan(0); // they did collide
    const lines = await store.logs.read(key, 1, 10 * EACH);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 2 * EACH }, (_, i) => i + 1));
    const texts = lines.map((l) => l.text);
    expect(new Set(texts).size).toBe(2 * EACH);
    // Each Kiln's own lines in the order it wrote them.
    const mine = (who: string) => texts.filter((t) => t.startsWith(`${who} `));
    expect(mine("a")).toEqual(Array.from({ length: EACH }, (_, i) => `a ${i + 1}`));
    expect(mine("b")).toEqual(Array.from({ length: EACH }, (_, i) => `b ${i + 1}`));
    // Live, on both Kilns: every stored line once, under its stored seq, in order — none seen under a seq
    // it was then numbered away from.
    await until("both subscribers to have every line", async () => seenA.length >= 2 * EACH && seenB.length >= 2 * EACH, 10_000);
    const asStored = lines.map((l) => `${l.seq} ${l.text}`);
    expect(seenA.map((l) => `${l.seq} ${l.text}`)).toEqual(asStored);
    expect(seenB.map((l) => `${l.seq} ${l.text}`)).toEqual(asStored);
    stopA();
    stopB();
    // And both go on writing afterwards.
    a.bus.publish(key, "system", "a after");
    await a.bus.flush();
    await until("b to have seen a's last line", async () => (await b.bus.lastSeq(key)) === 2 * EACH + 1, 5_000);
    b.bus.publish(key, "system", "b after");
    await b.bus.flush();
    expect((await store.logs.read(key, 2 * EACH + 1, 10)).map((l) => l.text)).toEqual(["a after", "b after"]);
  } finally {
    await store.close();
    await a.stop();
    await b.stop();
  }
}, 60_000);

/**
 * The live tail over Bun pub/sub (src/http/log-topic.ts) against a real Kiln: v2 subscribers that
 * join the stream's topic mid-stream — from a replay, from the middle, from the tail — while lines
 * are published in small frames (timer flushes) and large ones (size flushes) get every seq
 * exactly once, and all of them together hold one bus subscription; a subscriber on the topic
 * that stops reading is cut with the seq to resume from, and resuming there loses nothing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { LogLine } from "../../src/core/logs.ts";
import { CLOSE_CUT, type LogFrame } from "../../src/http/log-frames.ts";
import { failedDeployment, startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { collectFrames, nonReadingClient, parseRawFrames, type Collected } from "../helpers/ws-frames.ts";

let kiln: TestKiln;
let id: string;

const wsUrl = (since: number) => `${kiln.apiUrl.replace("http", "ws")}/api/v1/deployments/${id}/logs?since=${since}&v=2&token=${kiln.token}`;
const seqs = (lines: LogLine[]) => lines.map((l) => l.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(async () => {
  kiln = await startTestKiln();
  id = await failedDeployment(kiln, "live-topic");
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
}, 120_000);

test("subscribers joining the live topic mid-stream get every seq exactly once and share one bus subscription", async () => {
  const listenersBefore = kiln.bus.subscribers();
  for (let i = 0; i < 2000; i++) kiln.bus.publish(id, "runtime", `before ${i}`);
  let rand = 11;
  const next = (n: number) => (rand = (rand * 48271) % 2147483647) % n;
  const subscribers: { since: number; got: Promise<Collected> }[] = [];
  const ended = (c: Collected) => c.lines.at(-1)?.text === "END";
  // Publish for a while in bursts of every size; connect subscribers as it goes.
  for (let round = 0; round < 400; round++) {
    if (next(25) === 0) kiln.bus.publish(id, "runtime", Array.from({ length: 300 }, (_, i) => `${round} burst ${i} ${"b".repeat(200)}`).join("\n"));
    else for (let i = next(30); i > 0; i--) kiln.bus.publish(id, "runtime", `${round} ${i}`);
    if (round % 10 === 5) {
      const last = await kiln.bus.lastSeq(id);
      const since = [1, Math.max(1, last - next(3000)), last - next(20), last + 1][subscribers.length % 4]!;
      subscribers.push({ since, got: collectFrames(wsUrl(since), ended, 60_000) });
    }
    await Bun.sleep(next(4));
  }
  // Every subscriber is live by now: one bus subscription (the topic's) serves them all.
  const deadline = Date.now() + 10_000;
  while (kiln.bus.subscribers() !== listenersBefore + 1 && Date.now() < deadline) await Bun.sleep(20);
  expect(kiln.bus.subscribers()).toBe(listenersBefore + 1);
  const end = kiln.bus.publish(id, "runtime", "END").seq;
  expect(subscribers.length).toBe(40);
  for (const { since, got } of subscribers) {
    const c = await got;
    expect(seqs(c.lines)).toEqual(range(since, end));
    expect(c.frames.filter((f) => f.type === "replayed").length).toBe(1);
  }
}, 120_000);

test("a subscriber on the topic that stops reading is cut with the seq to resume from; resuming there loses nothing", async () => {
  const start = (await kiln.bus.lastSeq(id)) + 1;
  const url = new URL(wsUrl(start));
  const client = await nonReadingClient(url.hostname, Number(url.port), `${url.pathname}${url.search}`);
  await Bun.sleep(100); // live, on the topic
  // Two 7 kB lines a flush tick: frames under 16 KiB, which Bun queues per topic rather than writing at once.
  const big = "z".repeat(7000);
  let last = 0;
  for (let i = 0; i < 1000; i++) {
    kiln.bus.publish(id, "runtime", `${i}a ${big}`);
    last = kiln.bus.publish(id, "runtime", `${i}b ${big}`).seq;
    await Bun.sleep(6);
  }
  const { texts, closeCode } = parseRawFrames(await client.drain());
  const frames = texts.map((t) => JSON.parse(t) as LogFrame);
  expect(closeCode).toBe(CLOSE_CUT);
  const cut = frames.at(-1);
  expect(cut?.type).toBe("cut");
  const resumeFrom = (cut as { resumeFrom: number }).resumeFrom;
  const received = frames.flatMap((f) => (f.type === "lines" ? f.lines : []));
  expect(seqs(received)).toEqual(range(start, resumeFrom - 1));
  expect(resumeFrom).toBeLessThan(last);
  const resumed = await collectFrames(wsUrl(resumeFrom), (c) => c.frames.some((f) => f.type === "replayed"));
  expect(seqs(resumed.lines)).toEqual(range(resumeFrom, last));
}, 120_000);

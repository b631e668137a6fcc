/**
 * LogTopic's seam and bounds against a fake pub/sub server that behaves as Bun's does: a publish
 * reaches the sockets subscribed at that moment, in order with what each was sent on its own.
 * Every joiner, wherever it joins in a batch, must get every later seq exactly once; a socket
 * over the bound is cut with the first seq it was not handed.
 */
import { describe, expect, test } from "bun:test";
import type { LogLine } from "../core/logs.ts";
import { LogFanout } from "./log-fanout.ts";
import { CLOSE_CUT, type LogFrame } from "./log-frames.ts";
import { LogTopic, type TopicServer, type TopicSocket } from "./log-topic.ts";

const line = (seq: number): LogLine => ({ seq, ts: 0, stream: "runtime", text: `line ${seq}` });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** A pub/sub server and sockets that record what reaches them, in order. */
function fakeServer() {
  const subs = new Map<string, Set<FakeSocket>>();
  let publishes = 0;
  const server: TopicServer = {
    publish(topic, data) {
      publishes++;
      for (const s of subs.get(topic) ?? []) s.got.push(data);
      return data.length;
    },
  };
  class FakeSocket implements TopicSocket {
    got: string[] = [];
    queued = 0;
    closed: { code: number; reason: string } | null = null;
    send(data: string) {
      this.got.push(data);
    }
    queuedBytes() {
      return this.queued;
    }
    close(code: number, reason: string) {
      this.closed = { code, reason };
      for (const set of subs.values()) set.delete(this);
    }
    subscribe(topic: string) {
      if (!subs.has(topic)) subs.set(topic, new Set());
      subs.get(topic)!.add(this);
    }
    unsubscribe(topic: string) {
      subs.get(topic)?.delete(this);
    }
    frames() {
      return this.got.map((d) => JSON.parse(d) as LogFrame);
    }
    seqs() {
      return this.frames().flatMap((f) => (f.type === "lines" ? f.lines.map((l) => l.seq) : []));
    }
  }
  return { server, FakeSocket, publishes: () => publishes };
}

/** A topic fed by hand: `publish(n)` hands it the next n lines as the bus would. */
async function topicOn(server: TopicServer, opts: { maxBatchBytes?: number; maxQueuedBytes?: number } = {}) {
  let onLine: (l: LogLine) => void = () => {};
  let seq = 0;
  const topic = new LogTopic(
    "logs\nd1",
    "d1",
    server,
    async (since, f) => {
      seq = since - 1;
      onLine = f;
      return () => {
        onLine = () => {};
      };
    },
    new LogFanout(60_000), // the test flushes by hand
    { maxBatchBytes: opts.maxBatchBytes ?? 1 << 20, maxQueuedBytes: opts.maxQueuedBytes ?? 1 << 20 },
  );
  await topic.acquire(1);
  return {
    topic,
    publish: (n: number) => {
      for (let i = 0; i < n; i++) onLine(line(++seq));
      return seq;
    },
  };
}

describe("LogTopic: joining the live tail", () => {
  test("a joiner that has every seq the topic has seen subscribes at once and gets each later seq once", async () => {
    const { server, FakeSocket } = fakeServer();
    const { topic, publish } = await topicOn(server);
    publish(5);
    topic.flush();
    const s = new FakeSocket();
    expect(topic.join(s, 5)).toBe(true);
    publish(3);
    topic.flush();
    publish(2);
    topic.flush();
    expect(s.seqs()).toEqual(range(6, 10));
    expect(s.frames().length).toBe(2); // both from the topic, none per socket
  });

  test("a joiner with none of the pending batch takes the whole frame from the topic", async () => {
    const { server, FakeSocket } = fakeServer();
    const { topic, publish } = await topicOn(server);
    publish(4);
    topic.flush();
    publish(3); // 5..7 pending
    const s = new FakeSocket();
    expect(topic.join(s, 4)).toBe(true);
    expect(s.got).toEqual([]);
    topic.flush();
    publish(1);
    topic.flush();
    expect(s.seqs()).toEqual(range(5, 8));
  });

  test("a joiner in the middle of the pending batch gets only the rest of it, on its own, then the topic", async () => {
    const { server, FakeSocket, publishes } = fakeServer();
    const { topic, publish } = await topicOn(server);
    publish(10);
    topic.flush();
    publish(6); // 11..16 pending; the joiner was sent up to 13 on its own
    const s = new FakeSocket();
    const other = new FakeSocket();
    expect(topic.join(other, 10)).toBe(true);
    expect(topic.join(s, 13)).toBe(true);
    publish(2); // 17, 18 join the same batch
    topic.flush();
    expect(s.seqs()).toEqual(range(14, 18));
    expect(other.seqs()).toEqual(range(11, 18));
    const before = publishes();
    publish(3);
    topic.flush();
    expect(publishes()).toBe(before + 1);
    expect(s.seqs()).toEqual(range(14, 21));
    expect(other.seqs()).toEqual(range(11, 21));
  });

  test("a joiner outside what the topic holds is refused (it stays per socket)", async () => {
    const { server, FakeSocket } = fakeServer();
    const { topic, publish } = await topicOn(server);
    publish(10);
    topic.flush();
    publish(2);
    expect(topic.join(new FakeSocket(), 9)).toBe(false); // behind what was published
    expect(topic.join(new FakeSocket(), 13)).toBe(false); // ahead of what the topic has seen
    expect(topic.size).toBe(0);
  });

  test("joiners at every point of a stream with batches of every size get each seq exactly once", async () => {
    const { server, FakeSocket } = fakeServer();
    const { topic, publish } = await topicOn(server, { maxBatchBytes: 400 }); // some batches flush by size
    let rand = 7;
    const next = (n: number) => (rand = (rand * 48271) % 2147483647) % n;
    const joined: { s: InstanceType<typeof FakeSocket>; from: number }[] = [];
    for (let round = 0; round < 300; round++) {
      publish(next(12));
      if (next(3) === 0) topic.flush();
      // A joiner was sent everything up to some seq between the last frame and the last line seen.
      const published = topic.seenSeq - next(topic.seenSeq > 0 ? 4 : 1);
      const s = new FakeSocket();
      if (topic.join(s, published)) joined.push({ s, from: published + 1 });
    }
    const last = publish(5);
    topic.flush();
    expect(joined.length).toBeGreaterThan(100);
    for (const { s, from } of joined) expect(s.seqs()).toEqual(range(from, last));
  });
});

describe("LogTopic: slow readers", () => {
  test("a member over the bound is cut with the first seq after the last frame it was handed", async () => {
    const { server, FakeSocket } = fakeServer();
    const { topic, publish } = await topicOn(server, { maxQueuedBytes: 1000 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    topic.join(slow, 0);
    topic.join(fast, 0);
    publish(3);
    topic.flush();
    slow.queued = 1001; // the client stopped reading
    publish(2);
    topic.flush(); // 4, 5 reach it (queued behind the rest), then the cut
    expect(slow.frames().at(-1)).toEqual({ type: "cut", resumeFrom: 6 });
    expect(slow.seqs()).toEqual(range(1, 5));
    expect(slow.closed).toEqual({ code: CLOSE_CUT, reason: "too slow: resume with since=6" });
    publish(2);
    topic.flush();
    expect(slow.seqs()).toEqual(range(1, 5)); // nothing after the cut
    expect(fast.seqs()).toEqual(range(1, 7));
    expect(topic.size).toBe(1);
  });

  test("a joiner over the bound is cut with the first seq it was not sent", async () => {
    const { server, FakeSocket } = fakeServer();
    const { topic, publish } = await topicOn(server, { maxQueuedBytes: 1000 });
    publish(6);
    const s = new FakeSocket();
    topic.join(s, 3); // has 1..3; 4..6 would go to it alone
    s.queued = 5000;
    topic.flush();
    expect(s.frames()).toEqual([{ type: "cut", resumeFrom: 4 }]);
    expect(s.closed?.code).toBe(CLOSE_CUT);
    expect(topic.size).toBe(0);
  });

  test("the last user out stops the topic: no more publishes, joins refused", async () => {
    const { server, FakeSocket, publishes } = fakeServer();
    const { topic, publish } = await topicOn(server);
    const s = new FakeSocket();
    topic.join(s, 0);
    topic.release(s);
    publish(3);
    topic.flush();
    expect(publishes()).toBe(0);
    expect(topic.open).toBe(false);
    expect(topic.join(new FakeSocket(), 0)).toBe(false);
  });
});

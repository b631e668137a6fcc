import { describe, expect, test } from "bun:test";
import type { LogLine } from "../core/logs.ts";
import { CLOSE_CUT, type LogFrame } from "./log-frames.ts";
import { LogFanout } from "./log-fanout.ts";
import { LogSender, type FrameSocket } from "./log-sender.ts";

const line = (seq: number, text = `line ${seq}`): LogLine => ({ seq, ts: 0, stream: "runtime", text });

/** A socket that records what it was sent; `queued` is what the test says is still unsent. */
function fakeSocket() {
  const s = { sent: [] as string[], queued: 0, closed: null as null | { code: number; reason: string } };
  const socket: FrameSocket = {
    send: (d) => void s.sent.push(d),
    queuedBytes: () => s.queued,
    close: (code, reason) => void (s.closed = { code, reason }),
  };
  return { s, socket, frames: () => s.sent.map((d) => JSON.parse(d) as LogFrame) };
}

describe("LogSender v2", () => {
  test("many lines go out in one frame, then the replay marker", () => {
    const { socket, frames } = fakeSocket();
    const sender = new LogSender(socket, { version: 2, after: 0, fanout: new LogFanout(1000) });
    for (let i = 1; i <= 100; i++) sender.line(line(i));
    expect(frames()).toEqual([]);
    sender.replayed();
    expect(frames()).toEqual([{ type: "lines", lines: Array.from({ length: 100 }, (_, i) => line(i + 1)) }, { type: "replayed", seq: 100 }]);
    sender.stop();
  });

  test("a batch is flushed when it reaches maxBatchBytes", () => {
    const { socket, frames } = fakeSocket();
    const sender = new LogSender(socket, { version: 2, after: 0, maxBatchBytes: 200, fanout: new LogFanout(1000) });
    for (let i = 1; i <= 10; i++) sender.line(line(i));
    const got = frames();
    expect(got.length).toBeGreaterThan(1);
    expect(got.flatMap((f) => (f.type === "lines" ? f.lines.map((l) => l.seq) : []))).toEqual(Array.from({ length: got.flatMap((f) => (f.type === "lines" ? f.lines : [])).length }, (_, i) => i + 1));
    sender.stop();
  });

  test("a live line is flushed by the timer", async () => {
    const { socket, frames } = fakeSocket();
    const sender = new LogSender(socket, { version: 2, after: 4, fanout: new LogFanout(2) });
    sender.replayed();
    sender.line(line(5));
    await Bun.sleep(20);
    expect(frames()).toEqual([{ type: "replayed", seq: 4 }, { type: "lines", lines: [line(5)] }]);
  });

  test("lines at or below what was taken are dropped", () => {
    const { socket, frames } = fakeSocket();
    const sender = new LogSender(socket, { version: 2, after: 3, fanout: new LogFanout(1000) });
    for (const seq of [2, 3, 4, 4, 5]) sender.line(line(seq));
    sender.flush();
    expect(frames()).toEqual([{ type: "lines", lines: [line(4), line(5)] }]);
  });

  test("a replay that outruns the reader stalls (no cut) and resumes from the first unsent seq", () => {
    const { s, socket, frames } = fakeSocket();
    const sender = new LogSender(socket, { version: 2, after: 0, maxQueuedBytes: 1000, fanout: new LogFanout(1000) });
    sender.line(line(1));
    sender.flush();
    s.queued = 5000;
    sender.line(line(2));
    sender.flush();
    expect(sender.stalled).toBe(true);
    sender.line(line(3)); // the rest of the replay page: not taken
    sender.replayed(); // no marker while stalled
    expect(sender.nextSeq).toBe(2);
    s.queued = 0;
    sender.resume();
    for (const seq of [2, 3]) sender.line(line(seq));
    sender.replayed();
    expect(frames()).toEqual([{ type: "lines", lines: [line(1)] }, { type: "lines", lines: [line(2), line(3)] }, { type: "replayed", seq: 3 }]);
    expect(s.closed).toBeNull();
    sender.stop();
  });

  test("a live reader over the bound is cut with the seq to resume from, and gets nothing more", () => {
    const { s, socket, frames } = fakeSocket();
    const sender = new LogSender(socket, { version: 2, after: 0, maxQueuedBytes: 1000, fanout: new LogFanout(1000) });
    sender.replayed();
    sender.line(line(1));
    sender.line(line(2));
    sender.flush();
    s.queued = 5000;
    sender.line(line(3));
    sender.flush();
    expect(sender.done).toBe(true);
    sender.line(line(4));
    sender.replayed();
    expect(frames()).toEqual([{ type: "replayed", seq: 0 }, { type: "lines", lines: [line(1), line(2)] }, { type: "cut", resumeFrom: 3 }]);
    expect(s.closed?.code).toBe(CLOSE_CUT);
  });
});

describe("LogFanout", () => {
  test("senders on one stream share one encoding of a line and one frame of a batch", () => {
    const fanout = new LogFanout(1000);
    const a = fakeSocket();
    const b = fakeSocket();
    const senders = [a, b].map((f) => new LogSender(f.socket, { version: 2, after: 0, stream: "s", fanout }));
    const lines = [line(1), line(2)];
    for (const l of lines) for (const s of senders) s.line(l);
    for (const s of senders) s.flush();
    expect(a.s.sent).toEqual(b.s.sent);
    expect(a.s.sent[0]).toBe(b.s.sent[0]!); // the same string, built once
    expect(fanout.encode(lines[0]!)).toBe(fanout.encode(lines[0]!));
    expect(fanout.linesFrame("other", lines)).toBe(a.s.sent[0]!); // same text; a different key builds it anew
  });

  test("one clock flushes every sender with a batch", async () => {
    const fanout = new LogFanout(2);
    const a = fakeSocket();
    const b = fakeSocket();
    const [sa, sb] = [a, b].map((f) => new LogSender(f.socket, { version: 2, after: 0, stream: "s", fanout }));
    sa!.line(line(1));
    sb!.line(line(1));
    await Bun.sleep(20);
    expect(a.frames()).toEqual([{ type: "lines", lines: [line(1)] }]);
    expect(b.frames()).toEqual([{ type: "lines", lines: [line(1)] }]);
  });
});

describe("LogSender v1", () => {
  test("one bare line per message, no marker; a cut closes with the seq in the reason", () => {
    const { s, socket } = fakeSocket();
    const sender = new LogSender(socket, { version: 1, after: 0, maxQueuedBytes: 1000 });
    sender.replayed();
    sender.line(line(1));
    s.queued = 2000;
    sender.line(line(2));
    expect(s.sent.map((d) => JSON.parse(d))).toEqual([line(1)]);
    expect(s.closed).toEqual({ code: CLOSE_CUT, reason: "too slow: resume with since=2" });
  });
});

import { expect, test } from "bun:test";
import type { OutputStream } from "../formats/log-demux.ts";
import { countInSpan, LogCursor, missing } from "./log-cursor.ts";

/** Feeds one read of (stream, ns) entries; the verdicts. */
function read(cursor: LogCursor, entries: [OutputStream, number][]): string[] {
  cursor.beginRead();
  return entries.map(([s, ns]) => cursor.take(s, BigInt(ns)));
}

test("a first read takes everything, equal times included", () => {
  const c = new LogCursor();
  expect(read(c, [["stdout", 1], ["stdout", 2], ["stdout", 2], ["stderr", 2], ["stdout", 3]])).toEqual(["new", "new", "new", "new", "new"]);
  expect(c.resumeFrom()).toBe(2n);
});

test("a resume skips exactly the lines taken at the seam, by (time, position)", () => {
  const c = new LogCursor();
  read(c, [["stdout", 1], ["stdout", 5], ["stdout", 5]]); // two lines at 5 taken, a third at 5 not yet seen
  expect(c.resumeFrom()).toBe(5n);
  // The engine's `since` is inclusive: it sends the two again, then the third, then later ones.
  expect(read(c, [["stdout", 5], ["stdout", 5], ["stdout", 5], ["stdout", 6]])).toEqual(["seen", "seen", "new", "new"]);
  expect(c.rereads).toBe(0);
});

test("stdout and stderr are followed apart: the resume starts at the older mark", () => {
  const c = new LogCursor();
  read(c, [["stderr", 3], ["stdout", 4], ["stdout", 7]]);
  expect(c.resumeFrom()).toBe(3n);
  expect(read(c, [["stderr", 3], ["stdout", 4], ["stderr", 5], ["stdout", 7], ["stdout", 8]])).toEqual(["seen", "seen", "new", "seen", "new"]);
});

test("the engine re-reading a file inside one read: repeats are dropped and counted as a re-read", () => {
  const c = new LogCursor();
  expect(read(c, [["stdout", 1], ["stdout", 2], ["stdout", 2], ["stdout", 3], ["stdout", 2], ["stdout", 2], ["stdout", 3], ["stdout", 4]])).toEqual([
    "new", "new", "new", "new", "seen", "seen", "seen", "new",
  ]);
  expect(c.rereads).toBe(1);
});

test("a re-read ending at the mark's time does not take a repeat of an equal-time line as new", () => {
  const c = new LogCursor();
  expect(read(c, [["stdout", 1], ["stdout", 2], ["stdout", 1], ["stdout", 2], ["stdout", 2]])).toEqual(["new", "new", "seen", "seen", "new"]);
});

test("a resume that starts past the last line taken is a gap: that line is no longer kept", () => {
  const c = new LogCursor();
  read(c, [["stdout", 1], ["stdout", 2]]);
  expect(read(c, [["stdout", 9], ["stdout", 10]])).toEqual(["gap", "new"]);
  // A resume that meets its mark is no gap.
  expect(read(c, [["stdout", 10], ["stdout", 11]])).toEqual(["seen", "new"]);
});

test("nothing taken: nothing to resume from", () => {
  expect(new LogCursor().resumeFrom()).toBeUndefined();
});

const S = 1_000_000_000; // ns in a second

test("a re-read hands out the span to recount: from the read's first line to the re-read's first", () => {
  const c = new LogCursor();
  read(c, [["stdout", 1 * S], ["stdout", 2 * S], ["stdout", 2 * S + 5], ["stdout", 3 * S], ["stdout", 2 * S + 5]]);
  const [check, ...more] = c.takeRereadCheck();
  expect(more).toEqual([]);
  expect(check).toEqual({ stream: "stdout", from: BigInt(S), to: BigInt(2 * S + 5), taken: new Map([[1n, 1], [2n, 2]]) });
  expect(c.takeRereadCheck()).toEqual([]); // handed out once
});

test("missing: what the engine counts per second beyond what the read took", () => {
  const check = { stream: "stdout" as const, from: BigInt(S), to: BigInt(4 * S), taken: new Map([[1n, 10], [2n, 3], [3n, 7]]) };
  const counts = new Map<bigint, number>();
  for (const [stream, ns] of [["stdout", 1 * S], ["stdout", 2 * S], ["stdout", 2 * S + 1], ["stderr", 2 * S + 2], ["stdout", 3 * S], ["stdout", 5 * S]] as const) {
    countInSpan(check, counts, stream, BigInt(ns));
  }
  expect(counts).toEqual(new Map([[1n, 1], [2n, 2], [3n, 1]])); // stderr and past the span left out
  expect(missing(check, counts)).toBe(0);
  expect(missing(check, new Map([[2n, 8], [3n, 7]]))).toBe(5);
});

test("a long read keeps counts for its last 4096 seconds only; the span to recount starts after them", () => {
  const c = new LogCursor();
  const entries: [OutputStream, number][] = [];
  for (let sec = 1; sec <= 5000; sec++) entries.push(["stdout", sec * S]);
  entries.push(["stdout", 4999 * S]); // a re-read
  read(c, entries);
  const [check] = c.takeRereadCheck();
  expect(check?.from).toBe(BigInt(5000 - 4096 + 1) * BigInt(S));
  expect(check?.taken.size).toBe(4999 - (5000 - 4096));
});

import { describe, expect, test } from "bun:test";
import type { LogLine } from "../api.ts";
import { LogBuffer } from "./log-buffer.ts";
import { FilteredView, splitMatches } from "./log-filter.ts";
import { isAtBottom, visibleRange } from "./virtual-range.ts";

const line = (seq: number, stream: LogLine["stream"], text: string): LogLine => ({ seq, ts: 0, stream, text });
const all = { build: true, runtime: true, system: true };

describe("LogBuffer", () => {
  test("drops lines already seen (reconnect replay)", () => {
    const b = new LogBuffer();
    expect(b.push(line(1, "build", "a"))).toBe(true);
    expect(b.push(line(2, "build", "b"))).toBe(true);
    expect(b.push(line(2, "build", "b"))).toBe(false);
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2]);
  });
});

describe("FilteredView", () => {
  test("filters by stream and query, and extends as lines arrive", () => {
    const lines = [line(1, "build", "npm install"), line(2, "runtime", "listening on 3000"), line(3, "system", "route added")];
    const v = new FilteredView();
    expect(v.sync(lines, { streams: all, query: "" })).toEqual([0, 1, 2]);
    expect(v.sync(lines, { streams: { ...all, build: false }, query: "" })).toEqual([1, 2]);
    expect(v.sync(lines, { streams: all, query: "LISTEN" })).toEqual([1]);
    lines.push(line(4, "runtime", "listening again"));
    expect(v.sync(lines, { streams: all, query: "listen" })).toEqual([1, 3]);
  });
  test("100,000 lines filter fast", () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => line(i + 1, i % 3 === 0 ? "build" : "runtime", `line ${i + 1}`));
    const v = new FilteredView();
    const t = performance.now();
    expect(v.sync(lines, { streams: all, query: "line 99999" }).length).toBe(1);
    expect(performance.now() - t).toBeLessThan(500);
  });
});

test("splitMatches", () => {
  expect(splitMatches("Hello hello", "hello")).toEqual([
    { text: "Hello", match: true },
    { text: " ", match: false },
    { text: "hello", match: true },
  ]);
  expect(splitMatches("abc", "")).toEqual([{ text: "abc", match: false }]);
});

test("visibleRange and isAtBottom", () => {
  expect(visibleRange(0, 100, 20, 1000, 0)).toEqual({ start: 0, end: 6 });
  expect(visibleRange(2000, 100, 20, 1000, 5)).toEqual({ start: 95, end: 111 });
  expect(visibleRange(1_000_000, 100, 20, 1000, 5)).toEqual({ start: 1000, end: 1000 });
  expect(visibleRange(0, 100, 20, 0)).toEqual({ start: 0, end: 0 });
  expect(isAtBottom(900, 100, 1000, 20)).toBe(true);
  expect(isAtBottom(800, 100, 1000, 20)).toBe(false);
});

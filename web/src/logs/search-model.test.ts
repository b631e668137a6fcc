import { describe, expect, test } from "bun:test";
import { parseLogSearch } from "../../../src/logs/search-query.ts";
import type { LogLine } from "../api.ts";
import { appendPage, contextParams, formKey, isActive, NO_RESULTS, queryString, searchParams, seqIndex, sortedIndex, statusNote, type SearchForm } from "./search-model.ts";

const line = (seq: number, text = `line ${seq}`): LogLine => ({ seq, ts: 0, stream: "runtime", text });
const all = { build: true, runtime: true, system: true };
const form = (f: Partial<SearchForm>): SearchForm => ({ q: "", since: "", until: "", streams: all, ...f });
const fromQuery = (qs: string) => Object.fromEntries(new URLSearchParams(qs.replace(/^\?/, "")));

describe("search form → API query", () => {
  test("a text or a window makes a search; nothing, blanks, or no stream on does not", () => {
    expect(isActive(form({}))).toBe(false);
    expect(isActive(form({ q: "   " }))).toBe(false);
    expect(isActive(form({ q: "boom" }))).toBe(true);
    expect(isActive(form({ since: "1200" }))).toBe(true);
    expect(isActive(form({ q: "boom", streams: { build: false, runtime: false, system: false } }))).toBe(false);
  });

  test("trims, lists streams only when some are off, and the server's parser takes the result", () => {
    const p = searchParams(form({ q: " boom ", since: " 10 ", until: "2026-12-01T10:00:00Z", streams: { build: false, runtime: true, system: true } }), 50);
    expect(p).toEqual({ q: "boom", since: "10", until: "2026-12-01T10:00:00Z", stream: "runtime,system", limit: 50 });
    const parsed = parseLogSearch(fromQuery(queryString({ ...p, cursor: 77 })));
    expect(parsed).toEqual({ text: "boom", sinceSeq: 10, untilTs: Date.parse("2026-12-01T10:00:00Z"), streams: ["runtime", "system"], limit: 50, before: 77 });
    expect(searchParams(form({ q: "x" })).stream).toBeUndefined();
  });

  test("queryString encodes and leaves out what is unset", () => {
    expect(queryString({ q: "a b&c", limit: 100 })).toBe("?q=a+b%26c&limit=100");
    expect(queryString({})).toBe("");
  });

  test("formKey changes with what is asked, not with surrounding blanks", () => {
    expect(formKey(form({ q: "boom" }))).toBe(formKey(form({ q: " boom " })));
    expect(formKey(form({ q: "boom" }))).not.toBe(formKey(form({ q: "boom", since: "3" })));
  });

  test("context asks every stream from seq−R to seq+R, never below seq 1", () => {
    expect(contextParams(100, 10)).toEqual({ since: "90", until: "110", limit: 21 });
    expect(contextParams(3, 10)).toEqual({ since: "1", until: "13", limit: 21 });
    expect(parseLogSearch(fromQuery(queryString(contextParams(100, 10))))).toEqual({ sinceSeq: 90, untilSeq: 110, limit: 21 });
  });
});

describe("pages → results", () => {
  test("pages append newest first; the end is where next is null", () => {
    let r = appendPage(NO_RESULTS, { lines: [line(9), line(7)], next: 6, scanned: 4 }, 2);
    expect(r.lines.map((l) => l.seq)).toEqual([9, 7]);
    expect(r.budgetStop).toBe(false);
    expect(statusNote(r)).toBe("2 matches so far; older lines may match.");
    r = appendPage(r, { lines: [line(3)], next: null, scanned: 6 }, 2);
    expect(r.lines.map((l) => l.seq)).toEqual([9, 7, 3]);
    expect(r).toMatchObject({ next: null, scanned: 10, pages: 2, budgetStop: false });
    expect(statusNote(r)).toBe("3 matches, back to the start of the log.");
  });

  test("a short page with a next stopped at the scan budget, and says so", () => {
    const r = appendPage(NO_RESULTS, { lines: [line(2_000_000)], next: 1_000_001, scanned: 1_000_000 }, 100);
    expect(r.budgetStop).toBe(true);
    expect(statusNote(r)).toContain("examining 1,000,000 stored lines");
    expect(statusNote(r)).toContain("older lines may still match");
    const none = appendPage(NO_RESULTS, { lines: [], next: 5, scanned: 1_000_000 }, 100);
    expect(statusNote(none)).toStartWith("No stored line matches so far");
  });

  test("no match at all is said plainly", () => {
    expect(statusNote(appendPage(NO_RESULTS, { lines: [], next: null, scanned: 40 }, 100))).toBe("No stored line matches.");
  });

  test("a repeated seq is not shown twice", () => {
    const r = appendPage(appendPage(NO_RESULTS, { lines: [line(5), line(4)], next: 4, scanned: 2 }, 2), { lines: [line(4), line(1)], next: null, scanned: 3 }, 2);
    expect(r.lines.map((l) => l.seq)).toEqual([5, 4, 1]);
  });
});

describe("finding a result in the live view", () => {
  test("seqIndex finds a seq in a sorted buffer (with gaps), -1 when absent", () => {
    const lines = [1, 2, 5, 9, 10].map((s) => line(s));
    expect(lines.map((l) => seqIndex(lines, l.seq))).toEqual([0, 1, 2, 3, 4]);
    expect(seqIndex(lines, 3)).toBe(-1);
    expect(seqIndex(lines, 11)).toBe(-1);
    expect(seqIndex([], 1)).toBe(-1);
  });

  test("sortedIndex finds a buffer index among the filtered rows", () => {
    expect(sortedIndex([0, 4, 8, 15], 8)).toBe(2);
    expect(sortedIndex([0, 4, 8, 15], 5)).toBe(-1);
  });
});

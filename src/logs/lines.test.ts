import { describe, expect, test } from "bun:test";
import { capLine, MAX_LINE_BYTES, splitLines } from "./lines.ts";

describe("splitLines", () => {
  test("one line per newline, a trailing newline adds no empty line", () => {
    expect(splitLines("a\nb\n")).toEqual(["a", "b"]);
    expect(splitLines("a\r\nb")).toEqual(["a", "b"]);
    expect(splitLines("a\n\nb")).toEqual(["a", "", "b"]);
    expect(splitLines("")).toEqual([""]);
    expect(splitLines("\n")).toEqual([""]);
  });
});

describe("capLine", () => {
  test("leaves short lines alone", () => {
    expect(capLine("hello")).toBe("hello");
    const exact = "x".repeat(MAX_LINE_BYTES);
    expect(capLine(exact)).toBe(exact);
  });

  test("cuts long lines to 8 KiB of UTF-8 and marks the cut", () => {
    const capped = capLine("y".repeat(100_000));
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(capped.startsWith("yyyy")).toBe(true);
    expect(capped.endsWith("[line truncated]")).toBe(true);
  });

  test("never cuts inside a character", () => {
    const capped = capLine("😀".repeat(5000));
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(capped).not.toContain("\uFFFD");
    const body = capped.slice(0, capped.indexOf(" …"));
    expect(body.length % 2).toBe(0);
    expect([...body].every((c) => c === "😀")).toBe(true);
  });
});

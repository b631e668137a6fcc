import { describe, expect, test } from "bun:test";
import { UnitError, parseCpusToNano, parseDurationMs, parseSizeBytes } from "./units.ts";

describe("parseDurationMs", () => {
  test.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["1.5s", 1500],
    ["1.1s", 1100],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["1m30s", 90_000],
    [" 2s ", 2000],
    ["0", 0],
    [0, 0],
  ] as const)("%p → %p ms", (input, ms) => {
    expect(parseDurationMs(input)).toBe(ms);
  });

  test("a bare number is refused as ambiguous", () => {
    expect(() => parseDurationMs(30)).toThrow(/bare number is ambiguous/);
    expect(() => parseDurationMs("30")).toThrow(/bare number is ambiguous/);
  });

  test.each(["", "s", "10x", "1d", "-5s", "1.5", "0.5ms", "5 s", "10mm"])("%p is refused", (input) => {
    expect(() => parseDurationMs(input)).toThrow(UnitError);
  });

  test("days say to write hours", () => {
    expect(() => parseDurationMs("2d")).toThrow(/24h/);
  });
});

describe("parseSizeBytes", () => {
  test.each([
    ["512M", 512 * 1024 ** 2],
    ["2G", 2 * 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["100k", 102_400],
    ["100kb", 102_400],
    ["64MiB", 64 * 1024 ** 2],
    ["1t", 1024 ** 4],
    ["10b", 10],
    ["1048576", 1_048_576],
    [1_048_576, 1_048_576],
    ["1.3k", 1331],
  ] as const)("%p → %p bytes", (input, bytes) => {
    expect(parseSizeBytes(input)).toBe(bytes);
  });

  test.each(["", "G", "2X", "-1M", "1.5", 1.5, -1, "two gigs"])("%p is refused", (input) => {
    expect(() => parseSizeBytes(input)).toThrow(UnitError);
  });
});

describe("parseCpusToNano", () => {
  test.each([
    [2, 2e9],
    ["2", 2e9],
    [0.5, 5e8],
    ["1.5", 1.5e9],
    [".25", 2.5e8],
  ] as const)("%p → %p nano-CPUs", (input, nano) => {
    expect(parseCpusToNano(input)).toBe(nano);
  });

  test.each([0, "0", -1, "abc", "", 5000, "0.0000001"])("%p is refused", (input) => {
    expect(() => parseCpusToNano(input)).toThrow(UnitError);
  });

  test("Kubernetes millicores are explained", () => {
    expect(() => parseCpusToNano("500m")).toThrow(/millicores are not supported: "500m" is 0.5/);
  });
});

import { expect, test } from "bun:test";
import { sinceParam, splitStamp } from "./log-stamps.ts";

test("a stamped line: nanoseconds exactly, text untouched", () => {
  expect(splitStamp("2026-12-01T15:58:03.475804768Z listening on 3000")).toEqual({ ns: 1796140683475804768n, text: "listening on 3000" });
  expect(splitStamp("2026-12-01T15:58:03.4758Z  two spaces")).toEqual({ ns: 1796140683475800000n, text: " two spaces" });
  expect(splitStamp("2026-12-01T15:58:03Z ")).toEqual({ ns: 1796140683000000000n, text: "" });
  expect(splitStamp("2026-12-01T16:58:03.000000001+01:00 x")).toEqual({ ns: 1796140683000000001n, text: "x" });
});

test("a line without a stamp is null", () => {
  for (const l of ["", "hello", "2026-12-01 15:58:03 x", "2026-12-01T15:58:03.475804768Zx"]) expect(splitStamp(l)).toBeNull();
});

test("since: seconds and nine digits of nanoseconds", () => {
  expect(sinceParam(1796140683475804768n)).toBe("1796140683.475804768");
  expect(sinceParam(1796140683000000001n)).toBe("1796140683.000000001");
});

test("the engine's own form read by position agrees with the general parse", () => {
  // The general path takes any offset; "+00:00" forces it for the same instant.
  for (const frac of ["", ".5", ".123", ".000000001", ".999999999", ".12345678"]) {
    for (const second of ["2026-12-01T15:58:03", "1999-12-31T23:59:59", "2030-01-01T00:00:00"]) {
      const fast = splitStamp(`${second}${frac}Z hello world`);
      const general = splitStamp(`${second}${frac}+00:00 hello world`);
      expect(fast).toEqual(general!);
      expect(fast?.text).toBe("hello world");
    }
  }
  expect(splitStamp("2026-12-01T15:58:03.Z x")).toBeNull();
  expect(splitStamp("2026-12-01T15:58:03.12Zx")).toBeNull();
});

import { describe, expect, test } from "bun:test";
import { maxOf, sparkPath } from "./spark-path.ts";

const box = { width: 360, height: 42, windowMs: 3_600_000, intervalMs: 10_000 };
const end = 10_000_000;

describe("sparkPath", () => {
  test("points across the hour, scaled to the max; the newest at the right edge", () => {
    const d = sparkPath([{ ts: end - 20_000, value: 0 }, { ts: end - 10_000, value: 5 }, { ts: end, value: 10 }], 10, end, box);
    expect(d).toBe("M358 40L359 21L360 2");
  });

  test("a null or a gap breaks the line; a lone point is a short dash; older than the hour is left out", () => {
    const d = sparkPath(
      [
        { ts: end - 3_700_000, value: 1 },
        { ts: end - 100_000, value: 10 },
        { ts: end - 90_000, value: null },
        { ts: end - 80_000, value: 10 },
        { ts: end - 10_000, value: 10 },
      ],
      10,
      end,
      box,
    );
    expect(d).toBe("M348 2L350 2M350 2L352 2M357 2L359 2");
  });

  test("nothing known: an empty path; maxOf ignores nulls", () => {
    expect(sparkPath([{ ts: end, value: null }], 0, end, box)).toBe("");
    expect(maxOf([1, null, 3], [2])).toBe(3);
    expect(maxOf([null])).toBe(0);
  });
});

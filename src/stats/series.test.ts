import { describe, expect, test } from "bun:test";
import { downsample, latest, sparkline } from "./series.ts";

describe("series", () => {
  test("downsample keeps each bucket's largest value, null when the bucket has none", () => {
    expect(downsample([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(downsample([1, 5, null, null, 2, 0], 3)).toEqual([5, null, 2]);
  });

  test("sparkline scales to the largest value; unknown is a space; all zero is the lowest bar", () => {
    expect(sparkline([0, 4, 8, null])).toBe("▁▅█ ");
    expect(sparkline([0, 0])).toBe("▁▁");
  });

  test("latest skips unknown values", () => {
    expect(latest([1, 2, null])).toBe(2);
    expect(latest([null])).toBeNull();
  });
});

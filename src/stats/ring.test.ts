import { describe, expect, test } from "bun:test";
import { Ring } from "./ring.ts";

describe("Ring", () => {
  test("keeps the last `capacity` items, oldest first", () => {
    const r = new Ring<number>(3);
    expect(r.items()).toEqual([]);
    expect(r.latest()).toBeUndefined();
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.items()).toEqual([3, 4, 5]);
    expect(r.size).toBe(3);
    expect(r.latest()).toBe(5);
  });

  test("refuses a capacity that is not a positive integer", () => {
    expect(() => new Ring(0)).toThrow(RangeError);
    expect(() => new Ring(1.5)).toThrow(RangeError);
  });
});

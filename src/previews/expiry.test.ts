import { describe, expect, test } from "bun:test";
import { expiredPreviews } from "./expiry.ts";

const H = 3_600_000;
const now = 1_000 * H;
const p = (name: string, ageHours: number) => ({ id: `id-${name}`, name, createdAt: now - ageHours * H });

describe("which previews go", () => {
  test("none while all are younger than the TTL and within max", () => {
    expect(expiredPreviews([p("a", 1), p("b", 2)], { ttlHours: 72, max: 5 }, now)).toEqual([]);
  });

  test("those older than the TTL, saying so", () => {
    const out = expiredPreviews([p("a", 1), p("old", 80)], { ttlHours: 72, max: 5 }, now);
    expect(out).toEqual([{ id: "id-old", name: "old", why: "older than previews.ttl (72 h)" }]);
  });

  test("past max, the oldest go first", () => {
    const out = expiredPreviews([p("new", 1), p("oldest", 5), p("mid", 3), p("older", 4)], { ttlHours: 72, max: 2 }, now);
    expect(out.map((e) => e.name).sort()).toEqual(["older", "oldest"]);
    expect(out[0]!.why).toContain("previews.max (2)");
  });

  test("TTL first, then max counts only the ones left", () => {
    const out = expiredPreviews([p("a", 1), p("b", 2), p("stale", 100)], { ttlHours: 72, max: 2 }, now);
    expect(out.map((e) => e.name)).toEqual(["stale"]);
  });

  test("a fractional TTL in hours", () => {
    const out = expiredPreviews([p("a", 0.01), p("b", 0.0001)], { ttlHours: 0.001, max: 5 }, now);
    expect(out.map((e) => e.name)).toEqual(["a"]);
  });
});

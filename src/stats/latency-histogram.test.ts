import { describe, expect, test } from "bun:test";
import { LatencyHistogram } from "./latency-histogram.ts";

describe("LatencyHistogram", () => {
  test("quantiles within 5% of the exact ones", () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.add(ms);
    expect(h.count).toBe(1000);
    expect(Math.abs(h.quantile(0.5)! - 500) / 500).toBeLessThan(0.05);
    expect(Math.abs(h.quantile(0.95)! - 950) / 950).toBeLessThan(0.05);
  });

  test("null when empty; bad values ignored; merge adds counts", () => {
    const a = new LatencyHistogram();
    expect(a.quantile(0.5)).toBeNull();
    a.add(Number.NaN);
    a.add(-1);
    expect(a.count).toBe(0);
    a.add(10);
    const b = new LatencyHistogram();
    b.add(1000);
    b.add(1000);
    a.merge(b);
    expect(a.count).toBe(3);
    expect(Math.abs(a.quantile(0.5)! - 1000) / 1000).toBeLessThan(0.05);
  });
});

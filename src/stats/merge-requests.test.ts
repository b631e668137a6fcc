import { expect, test } from "bun:test";
import { LatencyHistogram } from "./latency-histogram.ts";
import { withClusterRequests, type RequestRow } from "./merge-requests.ts";
import { noStatus, type AppStatsSample } from "./sample.ts";

const sample = (ts: number): AppStatsSample => ({
  ts,
  cpuPercent: 5,
  memoryBytes: 100,
  memoryLimitBytes: null,
  netRxBytesPerSec: 1,
  netTxBytesPerSec: 2,
  requestsPerSec: 99, // this Kiln's own view: replaced by the rows (its own among them)
  status: { ...noStatus(), "2xx": 99 },
  latencyP50Ms: 1,
  latencyP95Ms: 1,
});
const row = (ts: number, count: number, ms: number, cls: "2xx" | "5xx" = "2xx"): RequestRow => {
  const latency = new LatencyHistogram();
  for (let i = 0; i < count; i++) latency.add(ms);
  return { ts, count, status: { ...noStatus(), [cls]: count }, latency };
};

test("each Kiln's rows go into the sample whose interval holds them: counts summed, latency from the merged histograms", () => {
  const samples = [sample(10_000), sample(20_000), sample(30_000)];
  const rows = [
    row(10_000, 4, 10), // this Kiln's, at its own sample's ts
    row(7_000, 6, 10), // another Kiln's interval ended inside (0, 10 000]
    row(18_000, 10, 100, "5xx"),
    row(20_000, 10, 10),
    row(31_000, 5, 10), // after the last sample here: not shown yet
    row(-5_000, 5, 10), // before the first: not shown
  ];
  const merged = withClusterRequests(samples, rows, 10_000);
  expect(merged.map((s) => s.requestsPerSec)).toEqual([1, 2, 0]);
  expect(merged.map((s) => s.status["2xx"])).toEqual([10, 10, 0]);
  expect(merged[1]!.status["5xx"]).toBe(10);
  // Twenty requests, half at 10 ms and half at 100 ms: p50 near 10, p95 near 100 (buckets are 10% wide).
  expect(merged[1]!.latencyP50Ms!).toBeGreaterThan(9);
  expect(merged[1]!.latencyP50Ms!).toBeLessThan(11);
  expect(merged[1]!.latencyP95Ms!).toBeGreaterThan(90);
  expect(merged[1]!.latencyP95Ms!).toBeLessThan(110);
  expect(merged[2]!.latencyP50Ms).toBeNull();
  // Container figures are the engine's, kept as sampled here.
  expect(merged.map((s) => s.cpuPercent)).toEqual([5, 5, 5]);
});

test("LatencyHistogram: toSparse and fromSparse round-trip; junk pairs are ignored", () => {
  const h = new LatencyHistogram();
  for (const ms of [0.01, 3, 3, 250, 1e9]) h.add(ms);
  const back = LatencyHistogram.fromSparse(h.toSparse());
  expect(back.count).toBe(5);
  expect(back.quantile(0.5)).toBe(h.quantile(0.5));
  expect(back.quantile(1)).toBe(h.quantile(1));
  expect(LatencyHistogram.fromSparse([[-1, 3], [500, 1], [2, -4], [1.5, 2]]).count).toBe(0);
});

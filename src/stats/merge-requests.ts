/**
 * Several Kilns: each Caddy logs only the requests it answered, so an app's request figures are the
 * sum over every Kiln's. Each Kiln keeps its intervals' totals in the store (cluster/request-stats.ts);
 * a Kiln answering for the app puts them into its own samples: a row counted by a Kiln whose
 * interval ended at `ts` goes into the sample whose interval (previous sample's ts, its ts] holds
 * `ts` — at most one interval (10 s) off. The figures are then the rows', this Kiln's included:
 * counts and status classes summed, latencies from the merged histograms. Pure.
 */
import { LatencyHistogram } from "./latency-histogram.ts";
import { noStatus, STATUS_CLASSES, type AppStatsSample, type StatusCounts } from "./sample.ts";

/** One Kiln's requests for one app in one of its intervals. */
export interface RequestRow {
  ts: number;
  count: number;
  status: StatusCounts;
  latency: LatencyHistogram;
}

export function withClusterRequests(samples: readonly AppStatsSample[], rows: readonly RequestRow[], intervalMs: number): AppStatsSample[] {
  const sums = samples.map(() => ({ count: 0, status: noStatus(), latency: new LatencyHistogram() }));
  for (const r of rows) {
    const i = samples.findIndex((s, k) => r.ts <= s.ts && r.ts > (k === 0 ? s.ts - intervalMs : samples[k - 1]!.ts));
    if (i < 0) continue; // before the first sample kept here, or after the last: not shown yet
    const sum = sums[i]!;
    sum.count += r.count;
    for (const c of STATUS_CLASSES) sum.status[c] += r.status[c];
    sum.latency.merge(r.latency);
  }
  return samples.map((s, k) => {
    const sum = sums[k]!;
    const seconds = Math.max(0.001, (k === 0 ? intervalMs : s.ts - samples[k - 1]!.ts) / 1000);
    return {
      ...s,
      requestsPerSec: sum.count / seconds,
      status: sum.status,
      latencyP50Ms: sum.latency.quantile(0.5),
      latencyP95Ms: sum.latency.quantile(0.95),
    };
  });
}

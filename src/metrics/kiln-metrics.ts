/**
 * Kiln's metrics: every name, help text, label and bucket in one place. Events are counted where
 * they happen (the claim path, the build runner, the HTTP middleware, the log bus) through the
 * small callbacks below; gauges and the lifecycles' refused-move tallies are read at scrape time
 * from the services (`observe`).
 */
import { Registry } from "./registry.ts";

/** Claims answer in milliseconds from the pool, seconds cold. */
const CLAIM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Steps run from milliseconds (publishing a route) to minutes (building an image). */
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** What the metrics read at scrape time. */
export interface MetricSources {
  /** Every pool member's workload and status (the store's rows). */
  poolMembers: () => Promise<readonly { workloadId: string; status: string }[]>;
  /** Workloads known now: their pools show every status, zeros included. */
  workloads: () => readonly string[];
  /** Every member status, so a pool's zeros are shown too. */
  memberStatuses: readonly string[];
  /** Live log subscribers (WebSocket clients) across all streams. */
  wsSubscribers: () => number;
  /** Status writes the lifecycles refused, by the component that tried (each keeps its own tally). */
  illegalMoves: Record<string, () => number>;
}

export type KilnMetrics = ReturnType<typeof createKilnMetrics>;

export function createKilnMetrics() {
  const registry = new Registry();
  const m = {
    registry,
    claimDuration: registry.histogram("kiln_claim_duration_seconds", "Time to answer a tenant claim, by where its container came from (existing, pool, cold).", ["source"], CLAIM_BUCKETS),
    poolMembers: registry.gauge("kiln_pool_members", "Pool members by workload and status.", ["workload", "status"]),
    builds: registry.counter("kiln_builds_total", "Builds finished, by result (succeeded, failed, cancelled).", ["result"]),
    stepDuration: registry.histogram("kiln_build_step_duration_seconds", "Duration of each pipeline step (source, build, run, healthy, route), builds and swaps alike.", ["step"], STEP_BUCKETS),
    httpRequests: registry.counter("kiln_http_requests_total", "API and dashboard requests answered, by route pattern and status code.", ["route", "status"]),
    logLines: registry.counter("kiln_log_lines_total", "Log lines published, by stream (build, runtime, system).", ["stream"]),
    logLinesDropped: registry.counter("kiln_log_lines_dropped_total", "Log lines discarded: published to a forgotten (deleted) stream."),
    logOffloaded: registry.counter("kiln_log_offloaded_lines_total", "Log lines moved to the offload target (KILN_LOG_OFFLOAD_URL)."),
    wsSubscribers: registry.gauge("kiln_ws_subscribers", "Live log subscribers (WebSocket clients)."),
    illegalTransitions: registry.counter("kiln_illegal_transitions_total", "Status writes a lifecycle refused, by the component that tried.", ["component"]),
  };
  return {
    ...m,
    /** For the claim path: one claim answered. */
    claimed(source: string, latencyMs: number): void {
      m.claimDuration.observe({ source }, latencyMs / 1000);
    },
    /** For the pipeline: one step ended (ok or not). */
    stepDone(step: string, durationMs: number): void {
      m.stepDuration.observe({ step }, durationMs / 1000);
    },
    /** For the build runner: one build ended. */
    buildDone(result: "succeeded" | "failed" | "cancelled"): void {
      m.builds.inc({ result });
    },
    /** For the log bus: lines published to a stream, or discarded. */
    linesPublished(stream: string, count: number, dropped: boolean): void {
      if (dropped) m.logLinesDropped.inc({}, count);
      else m.logLines.inc({ stream }, count);
    },
    /** For log offload: one segment stored in S3. */
    linesOffloaded(lines: number): void {
      m.logOffloaded.inc({}, lines);
    },
    /** Binds the scrape-time readings to the services. */
    observe(sources: MetricSources): void {
      for (const [component, read] of Object.entries(sources.illegalMoves)) m.illegalTransitions.track({ component }, read);
      registry.collect(async () => {
        const members = await sources.poolMembers();
        const counts = new Map<string, Map<string, number>>();
        const pool = (w: string) => counts.get(w) ?? counts.set(w, new Map(sources.memberStatuses.map((s) => [s, 0]))).get(w)!;
        for (const w of sources.workloads()) pool(w);
        for (const mb of members) pool(mb.workloadId).set(mb.status, (pool(mb.workloadId).get(mb.status) ?? 0) + 1);
        // Computed first, replaced at once: a concurrent scrape never sees half a count.
        m.poolMembers.clear();
        for (const [workload, byStatus] of counts) for (const [status, n] of byStatus) m.poolMembers.set({ workload, status }, n);
        m.wsSubscribers.set({}, sources.wsSubscribers());
      });
    },
  };
}

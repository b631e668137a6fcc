/**
 * Several Kilns: every Kiln's request totals per app and 10 s interval, in `kiln_request_stats`
 * (migration 15), so that an app's request figures are the same on whichever Kiln is asked
 * (stats/merge-requests.ts sums them). Each Kiln writes its intervals (apps with requests only) and
 * deletes what is older than the hour the samples cover; rows of Kilns long gone go too.
 *
 *   const shared = new ClusterRequestStats(db, owner);
 *   sampler: onRequests: (ts, per) => shared.record(ts, per)
 *   await shared.rows(deploymentId, sinceTs);
 */
import type { SQL } from "bun";
import { LatencyHistogram } from "../stats/latency-histogram.ts";
import type { RequestRow } from "../stats/merge-requests.ts";
import type { RequestTotals } from "../stats/request-window.ts";
import { INTERVAL_SECONDS, SAMPLES_KEPT } from "../stats/sample.ts";

/** The hour the samples cover, and an interval more (the first sample's). */
const KEPT_MS = (SAMPLES_KEPT + 1) * INTERVAL_SECONDS * 1000;

export class ClusterRequestStats {
  constructor(
    private readonly db: SQL,
    private readonly owner: string,
  ) {}

  /** This Kiln's requests of the interval that ended at `ts`, per deployment. */
  async record(ts: number, perDeployment: ReadonlyMap<string, RequestTotals>): Promise<void> {
    const rows = [...perDeployment].filter(([, t]) => t.count > 0);
    if (rows.length > 0) {
      const values: unknown[] = [];
      const tuples = rows.map(([id, t], i) => {
        values.push(this.owner, id, ts, t.count, t.status["2xx"], t.status["3xx"], t.status["4xx"], t.status["5xx"], JSON.stringify(t.latency.toSparse()));
        const b = i * 9;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9})`;
      });
      await this.db.unsafe(`INSERT INTO kiln_request_stats (owner, deployment_id, ts, count, s2xx, s3xx, s4xx, s5xx, latency) VALUES ${tuples.join(", ")} ON CONFLICT DO NOTHING`, values);
    }
    await this.db.unsafe("DELETE FROM kiln_request_stats WHERE (owner = $1 AND ts < $2) OR ts < $3", [this.owner, ts - KEPT_MS, ts - 2 * KEPT_MS]);
  }

  /** Every Kiln's rows for the deployment after `sinceTs`, oldest first. */
  async rows(deploymentId: string, sinceTs: number): Promise<RequestRow[]> {
    const rows = await this.db.unsafe<{ ts: string; count: number; s2xx: number; s3xx: number; s4xx: number; s5xx: number; latency: string }[]>(
      "SELECT ts, count, s2xx, s3xx, s4xx, s5xx, latency FROM kiln_request_stats WHERE deployment_id = $1 AND ts > $2 ORDER BY ts",
      [deploymentId, sinceTs],
    );
    return rows.map((r) => ({
      ts: Number(r.ts),
      count: r.count,
      status: { "2xx": r.s2xx, "3xx": r.s3xx, "4xx": r.s4xx, "5xx": r.s5xx },
      latency: LatencyHistogram.fromSparse(parseSparse(r.latency)),
    }));
  }
}

function parseSparse(text: string): [number, number][] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v.filter((p) => Array.isArray(p) && p.length === 2) as [number, number][]) : [];
  } catch {
    return [];
  }
}

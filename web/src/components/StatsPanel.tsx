/**
 * A deployment's last hour at a glance: small line charts of CPU, memory, network, requests per
 * second by status class and latency, polled from GET /deployments/:id/stats (a sample every 10 s).
 * The charts span the samples there are, up to an hour (a Kiln that started ten minutes ago has ten
 * minutes to show), the newest at the right edge.
 */
import { useClient } from "../client-context.ts";
import { usePoll } from "../lib/use-poll.ts";
import { chartsOf, type Chart } from "../stats/series-view.ts";
import { sparkPath } from "../stats/spark-path.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { clockTime } from "../lib/format.ts";
import "../stats/stats.css";

const HOUR_MS = 3_600_000;
const BOX = { width: 360, height: 42, windowMs: HOUR_MS, intervalMs: 10_000 };

export function StatsPanel({ deploymentId }: { deploymentId: string }) {
  const client = useClient();
  const stats = usePoll(() => client.stats(deploymentId), 5000, `stats:${deploymentId}`);
  const view = stats.data;
  const end = view?.samples.at(-1)?.ts ?? 0;
  const ts = view?.samples.map((s) => s.ts) ?? [];
  const intervalMs = (view?.intervalSeconds ?? 10) * 1000;
  const windowMs = Math.min(HOUR_MS, Math.max(intervalMs, end - (ts[0] ?? end)));
  return (
    <section className="card" aria-labelledby="stats-title" data-testid="stats-panel">
      <h2 id="stats-title" className="section-title">
        Last hour
      </h2>
      {view && ts.length > 0 && windowMs < HOUR_MS && <p className="muted stats-since">Since {clockTime(ts[0]!)}, when Kiln started sampling this app.</p>}
      <ErrorNotice error={stats.error} title="Could not load the stats" />
      {view && view.samples.length === 0 && <p className="muted">No samples yet: Kiln takes one every {view.intervalSeconds} s.</p>}
      {view && view.samples.length > 0 && (
        <div className="stats-grid">
          {chartsOf(view).map((chart) => (
            <ChartCard key={chart.id} chart={chart} ts={ts} end={end} box={{ ...BOX, windowMs, intervalMs }} />
          ))}
        </div>
      )}
    </section>
  );
}

function ChartCard({ chart, ts, end, box }: { chart: Chart; ts: number[]; end: number; box: typeof BOX }) {
  return (
    <figure className="stats-chart" data-testid={`chart-${chart.id}`}>
      <div className="stats-chart-head">
        <figcaption>{chart.title}</figcaption>
        <span className="stats-chart-now">{chart.now}</span>
      </div>
      <svg viewBox={`0 0 ${box.width} ${box.height}`} preserveAspectRatio="none" role="img" aria-label={`${chart.title} over the last hour, now ${chart.now}`}>
        {chart.lines.map((l) => (
          <path key={l.key} data-series={l.key} stroke={l.color} d={sparkPath(l.values.map((value, i) => ({ ts: ts[i]!, value })), chart.max, end, box)} />
        ))}
      </svg>
      {chart.lines.length > 1 && (
        <div className="stats-legend">
          {chart.lines.map((l) => (
            <span key={l.key} style={{ color: l.color }}>
              {l.label}
            </span>
          ))}
        </div>
      )}
    </figure>
  );
}

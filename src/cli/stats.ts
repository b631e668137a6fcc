/** kiln stats: an app's CPU, memory, network, requests and latency now, with a sparkline of the last hour each. */
import type { AppStats, StatsSample } from "../client/api-client.ts";
import { downsample, latest, sparkline } from "../stats/series.ts";
import { parse, positionals } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { formatBytes, type Paint } from "./output.ts";

/** Characters per sparkline: one a minute over the hour. */
const WIDTH = 60;

export const stats: Command = {
  name: "stats",
  summary: "an app's CPU, memory, network, requests and latency over the last hour",
  help: `Usage: kiln stats <name|id> [--json]

Show an app's figures now and a sparkline of the last hour for each (one character a minute,
scaled to the hour's highest value): CPU (percent of one CPU, all replicas), memory (without the
page cache) against its limit, network in and out, requests per second with the hour's count per
status class, and latency (p50 and p95 in Caddy). Kiln samples every 10 s and keeps an hour in
memory, so a restarted Kiln starts over.

${COMMON_FLAGS}

Example:
  kiln stats hello`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const [id] = positionals(pos, ["name|id"]) as [string];
    const view = await client(values).stats(id);
    if (values.json) out.json(view);
    else out.out(renderStats(id, view, out.paint));
    return EXIT.ok;
  },
};

type Row = { label: string; now: string; values: (number | null)[] };

/** The text kiln stats prints. */
export function renderStats(name: string, view: AppStats, paint: Paint): string {
  const s = view.samples;
  if (s.length === 0) return `${name}: no samples yet (Kiln takes one every ${view.intervalSeconds} s)`;
  const pick = (f: (x: StatsSample) => number | null) => s.map(f);
  const cpu = pick((x) => x.cpuPercent);
  const mem = pick((x) => x.memoryBytes);
  const limit = latest(pick((x) => x.memoryLimitBytes));
  const rx = pick((x) => x.netRxBytesPerSec);
  const tx = pick((x) => x.netTxBytesPerSec);
  const rps = pick((x) => x.requestsPerSec);
  const p50 = pick((x) => x.latencyP50Ms);
  const p95 = pick((x) => x.latencyP95Ms);
  const errors = pick((x) => x.status["4xx"] + x.status["5xx"]);
  const n = (v: number | null, f: (v: number) => string) => (v === null ? "–" : f(v));
  const rows: Row[] = [
    { label: "CPU", now: n(latest(cpu), (v) => `${v.toFixed(1)}%`), values: cpu },
    { label: "Memory", now: `${n(latest(mem), formatBytes)}${limit === null ? "" : ` / ${formatBytes(limit)}`}`, values: mem },
    { label: "Net in", now: n(latest(rx), (v) => `${formatBytes(Math.round(v))}/s`), values: rx },
    { label: "Net out", now: n(latest(tx), (v) => `${formatBytes(Math.round(v))}/s`), values: tx },
    { label: "Requests", now: n(latest(rps), (v) => `${v.toFixed(2)}/s`), values: rps },
    { label: "4xx+5xx", now: n(latest(errors), (v) => `${v} in 10 s`), values: errors },
    { label: "Latency", now: `p50 ${n(latest(p50), ms)} · p95 ${n(latest(p95), ms)}`, values: p95 },
  ];
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const nowWidth = Math.max(...rows.map((r) => r.now.length));
  const minutes = Math.max(1, Math.round((s.at(-1)!.ts - s[0]!.ts + view.intervalSeconds * 1000) / 60_000));
  const totals = (["2xx", "3xx", "4xx", "5xx"] as const).map((c) => `${c} ${s.reduce((t, x) => t + x.status[c], 0)}`).join("  ");
  return [
    paint.bold(`${name}: last ${minutes} min, a sample every ${view.intervalSeconds} s`),
    ...rows.map((r) => `${r.label.padEnd(labelWidth)}  ${r.now.padEnd(nowWidth)}  ${paint.cyan(sparkline(downsample(r.values, WIDTH)))}`),
    paint.dim(`requests in the hour: ${totals}`),
  ].join("\n");
}

function ms(v: number): string {
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

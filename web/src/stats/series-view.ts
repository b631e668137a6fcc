/**
 * Pure: which charts the stats panel draws from the API's samples, each with its series (value per
 * sample), colour, current value and scale.
 */
import type { AppStats, StatsSample } from "../../../src/client/api-client.ts";
import { latest } from "../../../src/stats/series.ts";
import { maxOf } from "./spark-path.ts";

export interface ChartLine {
  key: string;
  label: string;
  color: string;
  values: (number | null)[];
}

export interface Chart {
  id: string;
  title: string;
  /** The latest values, formatted. */
  now: string;
  lines: ChartLine[];
  max: number;
}

const STATUS_COLORS = { "2xx": "var(--ok)", "3xx": "var(--build)", "4xx": "var(--busy)", "5xx": "var(--bad)" } as const;

export function chartsOf(view: AppStats): Chart[] {
  const s = view.samples;
  const pick = (f: (x: StatsSample) => number | null) => s.map(f);
  const line = (key: string, label: string, color: string, values: (number | null)[]): ChartLine => ({ key, label, color, values });
  const cpu = pick((x) => x.cpuPercent);
  const mem = pick((x) => x.memoryBytes);
  const limit = latest(pick((x) => x.memoryLimitBytes));
  const rx = pick((x) => x.netRxBytesPerSec);
  const tx = pick((x) => x.netTxBytesPerSec);
  const perSec = (c: keyof StatsSample["status"]) => s.map((x) => x.status[c] / view.intervalSeconds);
  const classes = (["2xx", "3xx", "4xx", "5xx"] as const).map((c) => line(c, c, STATUS_COLORS[c], perSec(c)));
  const p50 = pick((x) => x.latencyP50Ms);
  const p95 = pick((x) => x.latencyP95Ms);
  const or = (v: number | null, f: (v: number) => string) => (v === null ? "—" : f(v));
  return [
    { id: "cpu", title: "CPU", now: or(latest(cpu), (v) => `${v.toFixed(1)}%`), lines: [line("cpu", "CPU", "var(--build)", cpu)], max: Math.max(100, maxOf(cpu)) },
    {
      id: "memory",
      title: "Memory",
      now: `${or(latest(mem), bytes)}${limit === null ? "" : ` / ${bytes(limit)}`}`,
      lines: [line("memory", "memory", "var(--runtime)", mem)],
      max: maxOf(mem) * 1.1,
    },
    {
      id: "network",
      title: "Network",
      now: `↓ ${or(latest(rx), (v) => `${bytes(v)}/s`)} ↑ ${or(latest(tx), (v) => `${bytes(v)}/s`)}`,
      lines: [line("rx", "in", "var(--build)", rx), line("tx", "out", "var(--system)", tx)],
      max: maxOf(rx, tx),
    },
    {
      id: "requests",
      title: "Requests",
      now: or(latest(pick((x) => x.requestsPerSec)), (v) => `${v.toFixed(2)}/s`),
      lines: classes,
      max: maxOf(...classes.map((c) => c.values)),
    },
    {
      id: "latency",
      title: "Latency",
      now: `p50 ${or(latest(p50), ms)} · p95 ${or(latest(p95), ms)}`,
      lines: [line("p50", "p50", "var(--build)", p50), line("p95", "p95", "var(--busy)", p95)],
      max: maxOf(p50, p95),
    },
  ];
}

export function bytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function ms(v: number): string {
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

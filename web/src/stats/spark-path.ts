/**
 * Pure: an SVG path for a sparkline of timed values over a fixed window (the last hour, ending at
 * the newest sample), scaled from 0 to `max`. A null value, or a gap longer than two intervals,
 * breaks the line; a lone point is drawn as a short dash so it is still seen.
 */
export interface SparkBox {
  width: number;
  height: number;
  /** The time the chart spans, ms (an hour). */
  windowMs: number;
  /** ms between samples: a longer gap breaks the line. */
  intervalMs: number;
}

export interface TimedValue {
  ts: number;
  value: number | null;
}

const PAD = 2;

export function sparkPath(points: TimedValue[], max: number, end: number, box: SparkBox): string {
  const start = end - box.windowMs;
  const x = (ts: number) => ((ts - start) / box.windowMs) * box.width;
  const y = (v: number) => box.height - PAD - (max > 0 ? Math.min(1, Math.max(0, v / max)) : 0) * (box.height - 2 * PAD);
  const runs: string[][] = [];
  let run: string[] = [];
  let lastTs = -Infinity;
  for (const p of points) {
    if (p.ts < start) continue;
    if (p.value === null || !Number.isFinite(p.value) || p.ts - lastTs > 2 * box.intervalMs) {
      if (run.length) runs.push(run);
      run = [];
    }
    if (p.value !== null && Number.isFinite(p.value)) run.push(`${r(x(p.ts))} ${r(y(p.value))}`);
    lastTs = p.ts;
  }
  if (run.length) runs.push(run);
  return runs
    .map((pts) => (pts.length === 1 ? `M${r(Number(pts[0]!.split(" ")[0]) - 2)} ${pts[0]!.split(" ")[1]}L${pts[0]}` : `M${pts.join("L")}`))
    .join("");
}

/** The largest value of several series (0 when none is known). */
export function maxOf(...series: (number | null)[][]): number {
  let m = 0;
  for (const s of series) for (const v of s) if (v !== null && Number.isFinite(v) && v > m) m = v;
  return m;
}

const r = (n: number) => Math.round(n * 10) / 10;

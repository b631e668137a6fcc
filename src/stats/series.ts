/**
 * Pure helpers to show a series of samples, shared by `kiln stats` and the dashboard: the series
 * shown (one pick per chart), downsampling to a width (the largest value per bucket, so a short
 * spike stays visible), and a unicode sparkline.
 */

/** Values to `width` points: each the max of its bucket of consecutive values; null when all are. */
export function downsample(values: (number | null)[], width: number): (number | null)[] {
  if (values.length <= width) return values;
  const out: (number | null)[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.floor(((i + 1) * values.length) / width);
    let max: number | null = null;
    for (let j = from; j < to; j++) {
      const v = values[j];
      if (v !== null && v !== undefined && (max === null || v > max)) max = v;
    }
    out.push(max);
  }
  return out;
}

const BARS = "▁▂▃▄▅▆▇█";

/** One character per value, scaled from 0 to the largest; a space where the value is unknown. */
export function sparkline(values: (number | null)[]): string {
  const max = Math.max(0, ...values.filter((v): v is number => v !== null));
  return values
    .map((v) => {
      if (v === null) return " ";
      if (max === 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1) + 0.5))];
    })
    .join("");
}

/** The latest non-null value of a series, or null. */
export function latest(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

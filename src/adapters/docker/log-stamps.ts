/**
 * The timestamps Docker puts before each log line (`timestamps=1`): RFC 3339 with nanoseconds,
 * "2026-12-01T15:58:03.475804768Z text". Kiln keeps them as nanoseconds since the epoch (bigint:
 * a double cannot hold them exactly), resumes a follow from the last one seen (`since` takes
 * "seconds.nanoseconds", inclusive) and drops what it already had. Pure but for a one-entry cache:
 * a burst stamps many lines within one second, and Date.parse per line was a fifth of ingest.
 */
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) /;

/** A stamped line → its time (ns since the epoch) and its text; null when it carries no stamp. */
export function splitStamp(line: string): { ns: bigint; text: string } | null {
  const m = STAMP.exec(line);
  if (!m) return null;
  const ms = secondMs(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = BigInt((m[2] ?? "").padEnd(9, "0"));
  return { ns: BigInt(ms) * 1_000_000n + frac, text: line.slice(m[0].length) };
}

/** The engine's `since` for a time in ns: "1796140683.475804768". */
export function sinceParam(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  return `${sec}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}`;
}

let lastSecond = "";
let lastSecondMs = Number.NaN;

function secondMs(second: string): number {
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondMs = Date.parse(second);
  }
  return lastSecondMs;
}

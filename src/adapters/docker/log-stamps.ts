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
  const fast = utcStamp(line);
  if (fast) return fast;
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

/**
 * The engine's own form, "2026-12-01T15:58:03.475804768Z ", read by position: a regex and two
 * BigInt parses a line were most of splitStamp's cost in a burst. Anything else: null (the regex).
 */
function utcStamp(line: string): { ns: bigint; text: string } | null {
  if (line.charCodeAt(19) !== 46 || line.charCodeAt(10) !== 84 || line.charCodeAt(4) !== 45) return null; // '.', 'T', '-'
  let frac = 0;
  let i = 20;
  for (; i < 29; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    frac = frac * 10 + d;
  }
  if (i === 20 || line.charCodeAt(i) !== 90 || line.charCodeAt(i + 1) !== 32) return null; // 'Z', ' '
  for (let k = i; k < 29; k++) frac *= 10; // fewer than 9 digits: scale to ns
  const second = line.slice(0, 19);
  if (second !== lastUtcSecond) {
    const ms = Date.parse(`${second}Z`);
    if (Number.isNaN(ms)) return null;
    lastUtcSecond = second;
    lastUtcSecondNs = BigInt(ms) * 1_000_000n;
  }
  return { ns: lastUtcSecondNs + BigInt(frac), text: line.slice(i + 2) };
}

let lastUtcSecond = "";
let lastUtcSecondNs = 0n;
let lastSecond = "";
let lastSecondMs = Number.NaN;

function secondMs(second: string): number {
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondMs = Date.parse(second);
  }
  return lastSecondMs;
}

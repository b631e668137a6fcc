/**
 * The units workload files are written in, parsed to the numbers WorkloadSpec holds.
 *
 * Durations (→ milliseconds) use the Go/Compose syntax: a number with a unit, several may be
 * joined: "500ms", "30s", "1.5s", "10m", "1h", "1h30m". Units: ms, s, m, h. A bare number is
 * refused (is `30` seconds or milliseconds?) except 0, which is 0 in any unit.
 *
 * Sizes (→ bytes) follow Docker: a plain number is bytes; otherwise a number and a unit
 * b, k, m, g, t (optionally followed by "b" or "ib", any case): "512M", "2G", "1.5G", "100k",
 * "64MiB". All units are binary (1k = 1024), as in Docker and Compose.
 *
 * CPUs (→ nano-CPUs) are a number of cores, as a number or a string: 2, "2", 0.5, "1.5".
 */

export class UnitError extends Error {
  override name = "UnitError";
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** "1h30m" → 5_400_000. Throws UnitError with what to write instead. */
export function parseDurationMs(input: string | number): number {
  const example = 'e.g. "500ms", "30s", "10m" or "1h30m"';
  const bare = `must be a duration with a unit, ${example} (a bare number is ambiguous)`;
  if (typeof input === "number") {
    if (input === 0) return 0;
    throw new UnitError(bare);
  }
  const text = input.trim();
  if (text === "0") return 0;
  if (/^\d+(\.\d+)?$/.test(text)) throw new UnitError(bare);
  if (/^\d+(\.\d+)?d$/.test(text)) throw new UnitError(`must be a duration: days are not a unit, write hours (e.g. "24h")`);
  if (text.length === 0) throw new UnitError(`must be a duration, ${example}`);
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(text);
    if (!m) throw new UnitError(`must be a duration, ${example}`);
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    pos = DURATION_PART.lastIndex;
  }
  const ms = Math.round(total * 1e6) / 1e6; // undo float noise: 1.1s is 1100ms, not 1100.0000000000002
  if (!Number.isInteger(ms)) throw new UnitError("must be a whole number of milliseconds");
  if (!Number.isSafeInteger(ms)) throw new UnitError("is too long");
  return ms;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i;
const SIZE_FACTORS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "1.5G" → 1_610_612_736; 1048576 → 1048576. Throws UnitError. */
export function parseSizeBytes(input: string | number): number {
  const example = 'write bytes or a number with a unit, e.g. "512M", "2G", "1.5G", "100k"';
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) throw new UnitError(`must be a size: ${example}`);
    return input;
  }
  const m = SIZE.exec(input.trim());
  if (!m) throw new UnitError(`must be a size: ${example}`);
  const unit = m[2]!.toLowerCase();
  if (unit === "" && m[1]!.includes(".")) throw new UnitError(`must be a size: a byte count is a whole number (or ${example})`);
  const bytes = Math.floor(Number(m[1]) * SIZE_FACTORS[unit]!);
  if (!Number.isSafeInteger(bytes)) throw new UnitError("is too large");
  return bytes;
}

const MAX_CPUS = 1024;

/** "1.5" → 1_500_000_000 nano-CPUs. Throws UnitError. */
export function parseCpusToNano(input: string | number): number {
  const example = 'a number of cores, e.g. 0.5, 2 or "1.5"';
  let cpus: number;
  if (typeof input === "number") {
    cpus = input;
  } else {
    const text = input.trim();
    if (/^\d+m$/.test(text)) throw new UnitError(`must be ${example} (Kubernetes-style millicores are not supported: "${text}" is ${Number(text.slice(0, -1)) / 1000})`);
    if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text)) throw new UnitError(`must be ${example}`);
    cpus = Number(text);
  }
  if (!Number.isFinite(cpus) || cpus <= 0) throw new UnitError(`must be more than 0: ${example}`);
  if (cpus > MAX_CPUS) throw new UnitError(`must be at most ${MAX_CPUS} cores`);
  const nano = Math.round(cpus * 1e9);
  if (nano < 1_000_000) throw new UnitError("must be at least 0.001 cores");
  return nano;
}

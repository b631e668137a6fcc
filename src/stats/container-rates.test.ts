import { describe, expect, test } from "bun:test";
import { containerFigures, cpuPercent } from "./container-rates.ts";
import type { ContainerCounters } from "./sample.ts";

const at = (readAt: number, cpu: number, system: number, rx: number | null, mem = 100): ContainerCounters => ({
  readAt,
  cpuTotalNs: cpu,
  systemCpuNs: system,
  onlineCpus: 2,
  memoryBytes: mem,
  memoryLimitBytes: 1000,
  netRxBytes: rx,
  netTxBytes: rx === null ? null : rx * 2,
});

describe("containerFigures", () => {
  test("CPU as docker stats counts it, network per second, memory summed over replicas", () => {
    const a0 = at(0, 0, 0, 0);
    const a1 = at(10_000, 5e9, 20e9, 1000); // half of the host's 20 CPU-seconds over 2 CPUs → 50%
    const b0 = at(0, 0, 0, 0, 50);
    const b1 = at(10_000, 1e9, 20e9, 500, 50);
    const f = containerFigures([
      { now: a1, before: a0 },
      { now: b1, before: b0 },
    ]);
    expect(f.cpuPercent).toBeCloseTo(50 + 10, 6);
    expect(f.memoryBytes).toBe(150);
    expect(f.memoryLimitBytes).toBe(2000);
    expect(f.netRxBytesPerSec).toBeCloseTo(150, 6);
    expect(f.netTxBytesPerSec).toBeCloseTo(300, 6);
  });

  test("a first reading gives memory at once and rates from the next one; nothing known is null", () => {
    const f = containerFigures([{ now: at(0, 5, 5, 0), before: undefined }]);
    expect(f.memoryBytes).toBe(100);
    expect(f.cpuPercent).toBeNull();
    expect(f.netRxBytesPerSec).toBeNull();
    expect(containerFigures([])).toEqual({ cpuPercent: null, memoryBytes: null, memoryLimitBytes: null, netRxBytesPerSec: null, netTxBytesPerSec: null });
  });

  test("counters that went back (a restarted container) give no rate", () => {
    expect(cpuPercent(at(0, 10, 10, 0), at(1000, 5, 20, 0))).toBeNull();
    expect(containerFigures([{ now: at(1000, 5, 20, 10), before: at(0, 10, 10, 100) }]).netRxBytesPerSec).toBeNull();
  });

  test("without the host's CPU time, CPU over wall time", () => {
    const before = { ...at(0, 0, 0, null), systemCpuNs: null };
    const now = { ...at(1000, 5e8, 0, null), systemCpuNs: null };
    expect(cpuPercent(before, now)).toBeCloseTo(50, 6);
  });
});

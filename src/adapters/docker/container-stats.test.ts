import { describe, expect, test } from "bun:test";
import { countersOf } from "./container-stats.ts";

describe("countersOf", () => {
  test("cgroup v1: memory without inactive file pages, networks summed", () => {
    const c = countersOf(
      {
        read: "2026-12-01T23:49:24.028Z",
        cpu_stats: { cpu_usage: { total_usage: 143, percpu_usage: [100, 43] }, system_cpu_usage: 6000, online_cpus: 2 },
        memory_stats: { usage: 1000, limit: 5000, stats: { total_inactive_file: 300, cache: 400 } },
        networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
      },
      0,
    );
    expect(c).toEqual({ readAt: Date.parse("2026-12-01T23:49:24.028Z"), cpuTotalNs: 143, systemCpuNs: 6000, onlineCpus: 2, memoryBytes: 700, memoryLimitBytes: 5000, netRxBytes: 11, netTxBytes: 22 });
  });

  test("cgroup v2 inactive_file; no networks → null; not running → null", () => {
    const c = countersOf({ cpu_stats: { cpu_usage: { total_usage: 5 } }, memory_stats: { usage: 100, stats: { inactive_file: 30 } } }, 42);
    expect(c!.memoryBytes).toBe(70);
    expect(c!.readAt).toBe(42);
    expect(c!.netRxBytes).toBeNull();
    expect(c!.onlineCpus).toBe(1);
    expect(countersOf({ read: "0001-01-01T00:00:00Z", cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} }, 1)).toBeNull();
  });
});

/**
 * A container's counters from the Engine API: GET /containers/{id}/stats?stream=false&one-shot=true
 * (API 1.41+: one reading, without the engine's own second reading a second later; the sampler keeps
 * the previous one to compute rates). `countersOf` is the pure decoding, for cgroup v1 and v2.
 */
import type { ContainerCounters, ContainerStatsReader } from "../../stats/sample.ts";
import { EngineHttp } from "./http.ts";

interface StatsJson {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

export class DockerContainerStats implements ContainerStatsReader {
  readonly #http: EngineHttp;

  constructor({ socketPath = "/var/run/docker.sock", apiVersion = "v1.41" }: { socketPath?: string; apiVersion?: string } = {}) {
    this.#http = new EngineHttp(socketPath, apiVersion);
  }

  /** Null when the container is gone or not running. */
  async counters(containerId: string): Promise<ContainerCounters | null> {
    const res = await this.#http.request({
      path: `/containers/${encodeURIComponent(containerId)}/stats`,
      query: { stream: false, "one-shot": true },
      okStatuses: [404],
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 404) {
      await res.arrayBuffer();
      return null;
    }
    return countersOf((await res.json()) as StatsJson, Date.now());
  }
}

/** The engine's stats answer → counters; null for a container that is not running (no CPU figures). */
export function countersOf(s: StatsJson, fallbackNow: number): ContainerCounters | null {
  const cpu = s.cpu_stats?.cpu_usage?.total_usage;
  if (typeof cpu !== "number" || cpu === 0) return null;
  const readAt = s.read ? Date.parse(s.read) : NaN;
  const mem = s.memory_stats;
  const nets = s.networks ? Object.values(s.networks) : null;
  return {
    readAt: Number.isFinite(readAt) && readAt > 0 ? readAt : fallbackNow,
    cpuTotalNs: cpu,
    systemCpuNs: typeof s.cpu_stats?.system_cpu_usage === "number" ? s.cpu_stats.system_cpu_usage : null,
    onlineCpus: s.cpu_stats?.online_cpus ?? s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 1,
    memoryBytes: typeof mem?.usage === "number" ? Math.max(0, mem.usage - pageCache(mem.stats ?? {})) : null,
    memoryLimitBytes: typeof mem?.limit === "number" && mem.limit > 0 ? mem.limit : null,
    netRxBytes: nets && nets.length ? nets.reduce((n, x) => n + (x.rx_bytes ?? 0), 0) : null,
    netTxBytes: nets && nets.length ? nets.reduce((n, x) => n + (x.tx_bytes ?? 0), 0) : null,
  };
}

/** The page cache `docker stats` leaves out: cgroup v1 total_inactive_file (else cache), v2 inactive_file. */
function pageCache(stats: Record<string, number>): number {
  return stats.total_inactive_file ?? stats.inactive_file ?? stats.cache ?? 0;
}

/**
 * What the stats sampler keeps per deployment: one sample every 10 s, the last hour of them.
 * Container figures come from the engine (summed over the deployment's replicas), request figures
 * from Caddy's access log; a figure is null when it is not known for that interval.
 */

/** Seconds between two samples. */
export const INTERVAL_SECONDS = 10;
/** Samples kept per deployment: an hour. */
export const SAMPLES_KEPT = 360;

export type StatusClass = "2xx" | "3xx" | "4xx" | "5xx";
export const STATUS_CLASSES: readonly StatusClass[] = ["2xx", "3xx", "4xx", "5xx"];
export type StatusCounts = Record<StatusClass, number>;

export interface AppStatsSample {
  /** When the interval ended (ms since the epoch). */
  ts: number;
  /** Percent of one CPU (200 = two CPUs busy), over the interval. */
  cpuPercent: number | null;
  /** Resident memory without the page cache, as `docker stats` counts it. */
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  netRxBytesPerSec: number | null;
  netTxBytesPerSec: number | null;
  requestsPerSec: number | null;
  /** Requests answered in the interval, by status class (1xx counts nowhere). */
  status: StatusCounts;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

/** One container's cumulative counters at one moment, as the engine reports them. */
export interface ContainerCounters {
  /** When the engine read them (ms since the epoch). */
  readAt: number;
  /** CPU time the container used, ns. */
  cpuTotalNs: number;
  /** CPU time the whole host used, ns (null when the engine did not say). */
  systemCpuNs: number | null;
  onlineCpus: number;
  /** Memory in use without the page cache; null when the engine did not say. */
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  /** Bytes over all its networks; null when it has none. */
  netRxBytes: number | null;
  netTxBytes: number | null;
}

/** The one thing the sampler asks the engine: a container's counters now, or null when it is gone. */
export interface ContainerStatsReader {
  counters(containerId: string): Promise<ContainerCounters | null>;
}

export const noStatus = (): StatusCounts => ({ "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 });

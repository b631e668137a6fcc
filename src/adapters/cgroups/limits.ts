/**
 * The cgroup files that bound builds, as data: which directories to make and which values to write
 * for a memory cap and a CPU quota on one cgroup, in cgroup v1 (a hierarchy per controller) or v2
 * (one unified tree). Pure and unit-tested; build-cgroup.ts writes them.
 */

export interface BuildLimits {
  /** What all RUN steps together may use; null: no limit. */
  memoryBytes: number | null;
  /** CPUs' worth of time per period, all RUN steps together; null: no limit. */
  cpus: number | null;
}

export type CgroupVersion = 1 | 2;

export interface CgroupWrite {
  file: string;
  value: string;
}

/** CFS period: quotas are CPUs × this many µs per period. */
export const CPU_PERIOD_US = 100_000;

/** The directories of cgroup `group` (e.g. "docker/buildkit") that must exist, under `root` (/sys/fs/cgroup). */
export function cgroupDirs(version: CgroupVersion, root: string, group: string): string[] {
  return version === 1 ? [`${root}/cpu/${group}`, `${root}/memory/${group}`] : [`${root}/${group}`];
}

/** The writes, in order, that set `limits` on the cgroup (no limit is written as "unlimited", so a raised cap is lifted). */
export function limitWrites(version: CgroupVersion, root: string, group: string, limits: BuildLimits): CgroupWrite[] {
  const quota = limits.cpus === null ? null : Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
  if (version === 1) {
    return [
      { file: `${root}/cpu/${group}/cpu.cfs_period_us`, value: String(CPU_PERIOD_US) },
      { file: `${root}/cpu/${group}/cpu.cfs_quota_us`, value: quota === null ? "-1" : String(quota) },
      { file: `${root}/memory/${group}/memory.limit_in_bytes`, value: limits.memoryBytes === null ? "-1" : String(limits.memoryBytes) },
    ];
  }
  // v2: a controller limits a group only when its parent hands it down (cgroup.subtree_control).
  const parents = group.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  return [
    ...["", ...parents].map((p) => ({ file: `${root}${p ? `/${p}` : ""}/cgroup.subtree_control`, value: "+cpu +memory" })),
    { file: `${root}/${group}/cpu.max`, value: `${quota === null ? "max" : quota} ${CPU_PERIOD_US}` },
    { file: `${root}/${group}/memory.max`, value: limits.memoryBytes === null ? "max" : String(limits.memoryBytes) },
  ];
}

/**
 * The file counting how often the group's memory cap was hit, and how to read it: v1 `memory.failcnt`
 * (charges refused at the cap, hierarchical), v2 `memory.events` `oom_kill` (hierarchical).
 */
export function memoryHitsFile(version: CgroupVersion, root: string, group: string): { file: string; parse: (text: string) => number } {
  if (version === 1) return { file: `${root}/memory/${group}/memory.failcnt`, parse: (text) => Number(text.trim()) || 0 };
  return { file: `${root}/${group}/memory.events`, parse: (text) => Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0) };
}

/** "1 CPU and 2048 MiB", "no CPU limit and 512 MiB", … for log lines. */
export function describeLimits(limits: BuildLimits): string {
  const cpu = limits.cpus === null ? "no CPU limit" : `${limits.cpus} CPU${limits.cpus === 1 ? "" : "s"}`;
  const mem = limits.memoryBytes === null ? "no memory limit" : `${Math.round(limits.memoryBytes / (1024 * 1024))} MiB`;
  return `${cpu} and ${mem}`;
}

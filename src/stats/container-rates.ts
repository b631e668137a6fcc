/**
 * Pure: a deployment's container figures for one interval from each replica's counters now and at
 * the previous sample. CPU and network are rates, so a replica seen for the first time (no previous
 * counters, or a restarted container whose counters went down) adds nothing to them until the next
 * sample; memory is a level and counts at once. Null when no replica gave a figure.
 */
import type { ContainerCounters } from "./sample.ts";

export interface ContainerFigures {
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  netRxBytesPerSec: number | null;
  netTxBytesPerSec: number | null;
}

export interface ReplicaCounters {
  now: ContainerCounters;
  before: ContainerCounters | undefined;
}

export function containerFigures(replicas: ReplicaCounters[]): ContainerFigures {
  let cpu: number | null = null;
  let mem: number | null = null;
  let limit: number | null = null;
  let rx: number | null = null;
  let tx: number | null = null;
  const add = (sum: number | null, v: number | null) => (v === null ? sum : (sum ?? 0) + v);
  for (const { now, before } of replicas) {
    mem = add(mem, now.memoryBytes);
    limit = add(limit, now.memoryLimitBytes);
    if (!before) continue;
    cpu = add(cpu, cpuPercent(before, now));
    const seconds = (now.readAt - before.readAt) / 1000;
    rx = add(rx, perSecond(before.netRxBytes, now.netRxBytes, seconds));
    tx = add(tx, perSecond(before.netTxBytes, now.netTxBytes, seconds));
  }
  return { cpuPercent: cpu, memoryBytes: mem, memoryLimitBytes: limit, netRxBytesPerSec: rx, netTxBytesPerSec: tx };
}

/**
 * Percent of one CPU, as `docker stats` computes it: the container's share of the host's CPU time
 * in the interval, times the host's CPUs. Falls back to wall time when the host's is unknown.
 */
export function cpuPercent(before: ContainerCounters, now: ContainerCounters): number | null {
  const used = now.cpuTotalNs - before.cpuTotalNs;
  if (used < 0) return null; // counters went back: a restarted container
  if (now.systemCpuNs !== null && before.systemCpuNs !== null && now.systemCpuNs > before.systemCpuNs) {
    return (used / (now.systemCpuNs - before.systemCpuNs)) * Math.max(1, now.onlineCpus) * 100;
  }
  const wallNs = (now.readAt - before.readAt) * 1e6;
  return wallNs > 0 ? (used / wallNs) * 100 : null;
}

function perSecond(before: number | null, now: number | null, seconds: number): number | null {
  if (before === null || now === null || seconds <= 0 || now < before) return null;
  return (now - before) / seconds;
}

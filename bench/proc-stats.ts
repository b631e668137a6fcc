/**
 * What a process costs, read from /proc: resident memory (split into anonymous — heaps, JIT,
 * malloc — and file-backed — the mapped executable and libraries) and CPU time.
 *
 *   const a = cpuTicks(pid); await Bun.sleep(30_000); cpuPercent(a, cpuTicks(pid), 30_000)
 */
import { readFileSync } from "node:fs";

export interface Rss {
  totalKb: number;
  anonKb: number;
  fileKb: number;
  shmemKb: number;
  /** Proportional set size: shared pages (the executable's, when Kiln and the resolver run the same one) split among their users. */
  pssKb: number;
  /** Pages no other process maps: what stopping this process would give back. */
  privateKb: number;
}

/** VmRSS and its parts from /proc/<pid>/status; PSS and private pages from /proc/<pid>/smaps_rollup. */
export function rss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return {
    totalKb: kb(status, "VmRSS"),
    anonKb: kb(status, "RssAnon"),
    fileKb: kb(status, "RssFile"),
    shmemKb: kb(status, "RssShmem"),
    pssKb: kb(rollup, "Pss"),
    privateKb: kb(rollup, "Private_Clean") + kb(rollup, "Private_Dirty"),
  };
}

/** The parent pid, from /proc/<pid>/status. */
export function parentPid(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

/** utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat, counted after the command's closing paren). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1)!.split(" ");
  // fields[0] is field 3 (state), so field n is fields[n - 3]
  return Number(fields[11]) + Number(fields[12]);
}

const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** CPU used between two cpuTicks readings `ms` apart, as % of one core. */
export function cpuPercent(before: number, after: number, ms: number): number {
  return ((after - before) / CLK_TCK / (ms / 1000)) * 100;
}

export const mib = (kb: number) => kb / 1024;

/** CPU time in ms for a number of cpuTicks. */
export const ticksToMs = (ticks: number) => (ticks / CLK_TCK) * 1000;

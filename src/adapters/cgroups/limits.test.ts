import { expect, test } from "bun:test";
import { cgroupDirs, describeLimits, limitWrites, memoryHitsFile } from "./limits.ts";

const R = "/sys/fs/cgroup";

test("cgroup v1: period, quota (CPUs × period) and memory cap on the cpu and memory hierarchies", () => {
  expect(cgroupDirs(1, R, "docker/buildkit")).toEqual([`${R}/cpu/docker/buildkit`, `${R}/memory/docker/buildkit`]);
  expect(limitWrites(1, R, "docker/buildkit", { cpus: 1.5, memoryBytes: 512 * 1024 * 1024 })).toEqual([
    { file: `${R}/cpu/docker/buildkit/cpu.cfs_period_us`, value: "100000" },
    { file: `${R}/cpu/docker/buildkit/cpu.cfs_quota_us`, value: "150000" },
    { file: `${R}/memory/docker/buildkit/memory.limit_in_bytes`, value: "536870912" },
  ]);
});

test("cgroup v1: no limit lifts a previous one (-1)", () => {
  expect(limitWrites(1, R, "g", { cpus: null, memoryBytes: null }).map((w) => w.value)).toEqual(["100000", "-1", "-1"]);
});

test("a tiny CPU share is held to the kernel's minimum quota of 1 ms", () => {
  expect(limitWrites(1, R, "g", { cpus: 0.001, memoryBytes: null })[1]!.value).toBe("1000");
});

test("cgroup v2: controllers handed down by every ancestor, then cpu.max and memory.max", () => {
  expect(cgroupDirs(2, R, "docker/buildkit")).toEqual([`${R}/docker/buildkit`]);
  expect(limitWrites(2, R, "docker/buildkit", { cpus: 0.5, memoryBytes: 1 << 30 })).toEqual([
    { file: `${R}/cgroup.subtree_control`, value: "+cpu +memory" },
    { file: `${R}/docker/cgroup.subtree_control`, value: "+cpu +memory" },
    { file: `${R}/docker/buildkit/cpu.max`, value: "50000 100000" },
    { file: `${R}/docker/buildkit/memory.max`, value: "1073741824" },
  ]);
  expect(limitWrites(2, R, "g", { cpus: null, memoryBytes: null }).map((w) => w.value)).toEqual(["+cpu +memory", "max 100000", "max"]);
});

test("memory cap hits: v1 memory.failcnt, v2 memory.events oom_kill", () => {
  const v1 = memoryHitsFile(1, R, "docker/buildkit");
  expect(v1.file).toBe(`${R}/memory/docker/buildkit/memory.failcnt`);
  expect(v1.parse("113\n")).toBe(113);
  const v2 = memoryHitsFile(2, R, "docker/buildkit");
  expect(v2.file).toBe(`${R}/docker/buildkit/memory.events`);
  expect(v2.parse("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n")).toBe(2);
  expect(v2.parse("")).toBe(0);
});

test("describeLimits", () => {
  expect(describeLimits({ cpus: 1, memoryBytes: 2048 * 1024 * 1024 })).toBe("1 CPU and 2048 MiB");
  expect(describeLimits({ cpus: 0.5, memoryBytes: null })).toBe("0.5 CPUs and no memory limit");
  expect(describeLimits({ cpus: null, memoryBytes: 64 * 1024 * 1024 })).toBe("no CPU limit and 64 MiB");
});

/** BuildCgroup over a plain directory laid out like a cgroup v1 filesystem (the real one: test/security/build-limits.test.ts). */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildCgroup, outOfMemory } from "./build-cgroup.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-cgroup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("apply makes the group, writes the limits, and current() reads them back; idempotent", async () => {
  const cg = new BuildCgroup({ root, limits: { cpus: 0.5, memoryBytes: 256 * 1024 * 1024 } });
  expect(cg.version).toBe(1);
  expect(await cg.apply()).toBeNull();
  expect(await cg.apply()).toBeNull();
  expect(readFileSync(join(root, "cpu/docker/buildkit/cpu.cfs_quota_us"), "utf8")).toBe("50000");
  expect(await cg.current()).toEqual({ cpus: 0.5, memoryBytes: 256 * 1024 * 1024 });
  expect(await cg.apply({ cpus: null, memoryBytes: null })).toBeNull();
  expect(await cg.current()).toEqual({ cpus: null, memoryBytes: null });
});

test("watch: the memory cap was hit when memory.failcnt grew during the build", async () => {
  const cg = new BuildCgroup({ root, limits: { cpus: 1, memoryBytes: 128 * 1024 * 1024 } });
  writeFileSync(join(root, "memory/docker/buildkit/memory.failcnt"), "7\n");
  const watch = await cg.watch();
  expect(await watch.hitMemoryLimit()).toBe(false);
  writeFileSync(join(root, "memory/docker/buildkit/memory.failcnt"), "9\n");
  expect(await watch.hitMemoryLimit()).toBe(true);
});

test("a limit that cannot be applied is said once, and the build goes on", async () => {
  const warnings: string[] = [];
  const cg = new BuildCgroup({ root: join(root, "file-not-dir"), limits: { cpus: 1, memoryBytes: null }, warn: (m) => warnings.push(m) });
  writeFileSync(join(root, "file-not-dir"), "");
  await cg.watch();
  await cg.watch();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toStartWith("build limits not applied to cgroup /docker/buildkit (cgroup v1): ");
});

test("the out-of-memory failure names the step and the limit, and the variable to raise", () => {
  const err = outOfMemory("[2/2] RUN npm ci", { cpus: 1, memoryBytes: 512 * 1024 * 1024 });
  expect(err.message).toBe("the build ran out of memory at [2/2] RUN npm ci: its steps were killed at the build memory limit of 512 MiB");
  expect(err.hint).toContain("KILN_BUILD_MEMORY_MB");
});

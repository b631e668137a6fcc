/**
 * Build limits against the real Docker engine (BuildKit, cgroup v1): a test Kiln with
 * KILN_BUILD_CPUS=0.1 and KILN_BUILD_MEMORY_MB=128 builds Dockerfile apps whose RUN steps burn CPU or
 * allocate memory. The steps run inside the cgroup Kiln limits (/docker/buildkit), are throttled to
 * the quota, and a step over the memory cap fails the build saying it ran out of memory.
 *
 * The cgroup is the engine's, shared by every build on it: the limits are set for this file's few
 * short builds and the previous values put back afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILDKIT_CGROUP, BuildCgroup, type BuildLimits } from "../../src/adapters/cgroups/build-cgroup.ts";
import { encodeTar } from "../../src/formats/tar/writer.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { until } from "../helpers/wait.ts";
import { WORKLOAD_IMAGE, WORKLOAD_IMAGE_TIMEOUT_MS, ensureWorkloadImage } from "../helpers/workloads.ts";

const CPU = `/sys/fs/cgroup/cpu/${BUILDKIT_CGROUP}`;
const MEMORY = `/sys/fs/cgroup/memory/${BUILDKIT_CGROUP}`;
const NONCE = `${process.pid}-${Date.now().toString(36)}`;
const SERVER = `CMD ["node", "-e", "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT)"]`;

let kiln: TestKiln;
let before: BuildLimits | null = null;

beforeAll(async () => {
  await ensureWorkloadImage();
  before = await new BuildCgroup({ limits: { cpus: null, memoryBytes: null } }).current().catch(() => null);
  kiln = await startTestKiln({ KILN_BUILD_CPUS: "0.1", KILN_BUILD_MEMORY_MB: "128" });
}, WORKLOAD_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  await kiln?.stop();
  if (before) await new BuildCgroup({ limits: before }).apply();
});

const dockerfileApp = (name: string, run: string) =>
  kiln.api(`/deployments/upload?name=${name}`, {
    method: "POST",
    body: encodeTar([{ path: "Dockerfile", type: "file", data: `FROM ${WORKLOAD_IMAGE}\nRUN ${run}\nENV PORT=8080\n${SERVER}\n` }]),
  });

const num = (file: string, key?: string) => {
  const text = readFileSync(file, "utf8");
  return Number(key ? new RegExp(`^${key} (\\d+)$`, "m").exec(text)?.[1] : text.trim());
};

/** Processes whose command line holds `marker`, with the cpu cgroup each is in. */
function processesWith(marker: string): { pid: string; cmdline: string; cpuCgroup: string }[] {
  const out: { pid: string; cmdline: string; cpuCgroup: string }[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes(marker)) continue;
      const cpuCgroup = /^\d+:cpu(?:,cpuacct)?:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1] ?? "";
      out.push({ pid, cmdline, cpuCgroup });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test("Kiln sets the configured limits on the cgroup BuildKit runs RUN steps in", async () => {
  expect(await new BuildCgroup({ limits: { cpus: null, memoryBytes: null } }).current()).toEqual({ cpus: 0.1, memoryBytes: 128 * 1024 * 1024 });
  expect(num(`${CPU}/cpu.cfs_quota_us`)).toBe(10_000);
  expect(num(`${CPU}/cpu.cfs_period_us`)).toBe(100_000);
});

test("a RUN step burning two CPUs runs inside the build cgroup and is throttled to its quota", async () => {
  const throttledBefore = num(`${CPU}/cpu.stat`, "nr_throttled");
  const marker = `burn-${NONCE}`;
  const burn = `sh -c 'while :; do :; done # ${marker}'`;
  const res = await dockerfileApp("burner", `${burn} & ${burn} & sleep 3; kill %1 %2; echo burned`);
  expect(res.status).toBe(202);
  const dep = (await res.json()) as { id: string };

  // While the step runs: both burners are in a child of /docker/buildkit, under the 0.1 CPU quota
  // (small, so that they exceed it even on a busy machine).
  const burners = await until("the burners to run", async () => {
    const found = processesWith(marker).filter((p) => p.cmdline.startsWith("sh\0-c\0while"));
    return found.length >= 2 && found;
  }, 120_000);
  for (const b of burners) expect(b.cpuCgroup).toStartWith(`/${BUILDKIT_CGROUP}/`);
  expect(num(`${CPU}/cpu.cfs_quota_us`)).toBe(10_000);

  const done = await kiln.waitFor(dep.id, ["running", "failed"], 120_000);
  expect(done.status).toBe("running");
  expect(num(`${CPU}/cpu.stat`, "nr_throttled")).toBeGreaterThan(throttledBefore);
}, 180_000);

test("a RUN step over the memory limit fails the build, saying it ran out of memory", async () => {
  writeFileSync(`${MEMORY}/memory.max_usage_in_bytes`, "0"); // reset the peak, to read this build's
  const alloc = `node -e "const a = []; for (let i = 0; i < 3000; i++) a.push(Buffer.alloc(1 << 20, 1)); console.log('allocated ${NONCE}')"`;
  const res = await dockerfileApp("hog", alloc);
  expect(res.status).toBe(202);
  const dep = (await res.json()) as { id: string };
  const done = await kiln.waitFor(dep.id, ["running", "failed"], 120_000);
  expect(done.status).toBe("failed");
  expect(done.failureReason).toContain("the build ran out of memory at [2/2] RUN node -e");
  expect(done.failureReason).toContain("killed at the build memory limit of 128 MiB");
  expect(num(`${MEMORY}/memory.max_usage_in_bytes`)).toBeLessThanOrEqual(128 * 1024 * 1024);
  const lines = await kiln.logs(dep.id, { timeoutMs: 1500 });
  expect(lines.some((l) => l.text.trim() === `allocated ${NONCE}`)).toBe(false); // the step never got there
}, 180_000);

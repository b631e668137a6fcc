/**
 * Bounds on builds, so a build cannot starve serving apps. dockerd's BuildKit (POST /build with
 * version=2) runs every RUN step in the cgroup `<dockerd's cgroup parent>/buildkit/<step id>`, which is
 * /docker/buildkit/<id> with the default cgroupfs driver, and ignores the build API's `memory`,
 * `cpuquota`, `cpuperiod`, `cpusetcpus` and `cgroupparent` (checked on Docker 20.10). So Kiln sets
 * the limits on that parent, "docker/buildkit": the RUN steps of all builds on the engine share one
 * memory cap and one CPU quota. The group is made if missing and the values written again before
 * each build (idempotent: dockerd may have restarted, another Kiln may have changed them).
 *
 *   const cg = new BuildCgroup({ limits: { memoryBytes: 2 << 30, cpus: 1 } });
 *   const watch = await cg.watch();               // before a build
 *   if (failedWithSigkill && await watch.hitMemoryLimit()) … the build ran out of memory
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { StepError } from "../../core/errors.ts";
import { type BuildLimits, CPU_PERIOD_US, type CgroupVersion, cgroupDirs, limitWrites, memoryHitsFile } from "./limits.ts";

export type { BuildLimits } from "./limits.ts";

/** Where dockerd's BuildKit puts RUN steps (its default cgroup parent, /docker, plus "buildkit"). */
export const BUILDKIT_CGROUP = "docker/buildkit";

/** What the Docker engine asks before a build (adapters/docker/engine.ts). */
export interface BuildLimiter {
  watch(): Promise<BuildWatch>;
}

export interface BuildWatch {
  readonly limits: BuildLimits;
  /** Whether the builds' memory cap was hit since the watch began. */
  hitMemoryLimit(): Promise<boolean>;
}

export interface BuildCgroupOptions {
  limits: BuildLimits;
  /** The cgroup filesystem (default /sys/fs/cgroup). */
  root?: string;
  group?: string;
  /** Where a failure to apply the limits is said, once per distinct failure (default console.warn). */
  warn?: (message: string) => void;
}

export class BuildCgroup implements BuildLimiter {
  readonly limits: BuildLimits;
  readonly group: string;
  readonly version: CgroupVersion;
  readonly #root: string;
  readonly #warn: (message: string) => void;
  #lastProblem: string | null = null;

  constructor({ limits, root = "/sys/fs/cgroup", group = BUILDKIT_CGROUP, warn = (m) => console.warn(`kiln: ${m}`) }: BuildCgroupOptions) {
    this.limits = limits;
    this.group = group;
    this.#root = root;
    this.#warn = warn;
    this.version = existsSync(`${root}/cgroup.controllers`) ? 2 : 1;
  }

  /** Make the group and write the limits. Null when done, else why not (builds then run unbounded). */
  async apply(limits: BuildLimits = this.limits): Promise<string | null> {
    try {
      for (const dir of cgroupDirs(this.version, this.#root, this.group)) await mkdir(dir, { recursive: true });
      for (const w of limitWrites(this.version, this.#root, this.group, limits)) await writeFile(w.file, w.value);
      return (this.#lastProblem = null);
    } catch (err) {
      return (this.#lastProblem = `build limits not applied to cgroup /${this.group} (cgroup v${this.version}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Apply the limits (saying a new failure to apply them), then watch the memory cap. */
  async watch(): Promise<BuildWatch> {
    const said = this.#lastProblem;
    const problem = await this.apply();
    if (problem !== null && problem !== said) this.#warn(problem);
    const hits = memoryHitsFile(this.version, this.#root, this.group);
    const count = () => readFile(hits.file, "utf8").then(hits.parse, () => 0);
    const before = await count();
    const limits = this.limits;
    return { limits, hitMemoryLimit: async () => limits.memoryBytes !== null && (await count()) > before };
  }

  /** The limits the group holds now (for the boot line, and for tests to put back what they changed). */
  async current(): Promise<BuildLimits> {
    const read = (path: string) => readFile(`${this.#root}/${path}`, "utf8").then((t) => t.trim());
    const g = this.group;
    if (this.version === 1) {
      const [quota, period, memory] = await Promise.all([read(`cpu/${g}/cpu.cfs_quota_us`), read(`cpu/${g}/cpu.cfs_period_us`), read(`memory/${g}/memory.limit_in_bytes`)]);
      const bytes = Number(memory);
      return { cpus: Number(quota) < 0 ? null : Number(quota) / Number(period), memoryBytes: bytes < 0 || bytes >= 2 ** 62 ? null : bytes }; // the kernel reads "-1" back as ~2^63
    }
    const [cpuMax, memory] = await Promise.all([read(`${g}/cpu.max`), read(`${g}/memory.max`)]);
    const [quota, period = String(CPU_PERIOD_US)] = cpuMax.split(" ");
    return { cpus: quota === "max" ? null : Number(quota) / Number(period), memoryBytes: memory === "max" ? null : Number(memory) };
  }
}

/** The build failure when a step was killed at the builds' memory cap. */
export function outOfMemory(step: string | undefined, limits: BuildLimits): StepError {
  const cap = limits.memoryBytes === null ? "" : ` of ${Math.round(limits.memoryBytes / (1024 * 1024))} MiB`;
  return new StepError(
    `the build ran out of memory${step ? ` at ${step}` : ""}: its steps were killed at the build memory limit${cap}`,
    "make that step need less memory, or raise KILN_BUILD_MEMORY_MB (the limit all builds' RUN steps share)",
  );
}

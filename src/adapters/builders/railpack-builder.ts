/**
 * Railpack (https://railpack.com), when installed: `railpack prepare` writes a build plan,
 * `buildctl` builds it with the Railpack BuildKit frontend on a BuildKit daemon (one mount-cache
 * namespace per app) into a docker-format tarball, which is loaded into the engine and then
 * re-tagged through a one-line `FROM` build so the image carries Kiln's labels.
 *
 * Applies only when `railpack` and `buildctl` are on PATH, the BuildKit daemon (option
 * `buildkitHost`: config's BUILDKIT_HOST) answers and an image loader is wired. See docs/railpack.md.
 * `railpack prepare` reads the source tree on the host and would follow symbolic links, so a tree
 * with any link leading out of it (fs/beneath.ts findLinkOut) fails before it runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StepError } from "../../core/errors.ts";
import type { BuildInput, BuildOutput, ImageBuilder } from "../../core/ports/builder.ts";
import type { ContainerRuntime } from "../../core/ports/runtime.ts";
import { findLinkOut } from "../fs/beneath.ts";
import { run, type Command, type RunOptions, type RunResult } from "../exec/run.ts";
import { filesArchive } from "./build-context.ts";
import { buildctlCommand, prepareCommand, probeCommand, railpackPaths, secretsHash } from "./railpack-commands.ts";

export interface RailpackBuilderOptions {
  runtime: Pick<ContainerRuntime, "buildImage" | "removeImage">;
  /**
   * Load a docker-format image tarball into the engine (Engine API POST /images/load).
   * Without it Railpack never applies.
   */
  loadImage?: (tar: ReadableStream<Uint8Array>, signal?: AbortSignal) => Promise<void>;
  /** BuildKit daemon address (config.buildkitHost). Without it Railpack never applies. */
  buildkitHost?: string;
  /** The environment railpack and buildctl start from (config.childEnv). */
  baseEnv?: Readonly<Record<string, string>>;
  /** The frontend image; best pinned to the railpack CLI's version (…/railpack-frontend:v0.x.y). */
  frontendImage?: string;
  railpackBin?: string;
  buildctlBin?: string;
  /** For tests. */
  exec?: (cmd: Command, opts?: RunOptions) => Promise<RunResult>;
  which?: (bin: string) => string | null;
  tmpDir?: string;
}

const PROBE_TIMEOUT_MS = 5000;
const PROBE_TTL_MS = 30_000;
const PREPARE_TIMEOUT_MS = 2 * 60_000;
const BUILD_TIMEOUT_MS = 30 * 60_000;

export class RailpackBuilder implements ImageBuilder {
  readonly name = "railpack" as const;
  #probe: { at: number; ok: boolean } | null = null;

  constructor(private readonly opts: RailpackBuilderOptions) {}

  /** Runs a command with the base environment. */
  #exec(cmd: Command, opts: RunOptions): Promise<RunResult> {
    return (this.opts.exec ?? run)(cmd, { baseEnv: this.opts.baseEnv, ...opts });
  }

  get #addr(): string | undefined {
    return this.opts.buildkitHost;
  }

  /** railpack and buildctl installed and the BuildKit daemon answering (remembered for 30 s). */
  async applies(_srcDir: string): Promise<boolean> {
    const which = this.opts.which ?? ((bin: string) => Bun.which(bin));
    const addr = this.#addr;
    if (!addr || !this.opts.loadImage || !which(this.opts.railpackBin ?? "railpack") || !which(this.opts.buildctlBin ?? "buildctl")) return false;
    if (this.#probe && Date.now() - this.#probe.at < PROBE_TTL_MS) return this.#probe.ok;
    const res = await this.#exec(probeCommand(addr, this.opts.buildctlBin), { timeoutMs: PROBE_TIMEOUT_MS }).catch(() => null);
    const ok = res !== null && res.code === 0;
    this.#probe = { at: Date.now(), ok };
    return ok;
  }

  async build(input: BuildInput): Promise<BuildOutput> {
    const addr = this.#addr;
    const loadImage = this.opts.loadImage;
    if (!addr || !loadImage) throw new StepError("railpack is not set up on this Kiln", "see docs/railpack.md");
    // railpack reads the tree itself on the host (any file it likes): no link out of it is allowed.
    const linkOut = await findLinkOut(input.srcDir);
    if (linkOut) throw linkOut;
    const workDir = await mkdtemp(join(this.opts.tmpDir ?? tmpdir(), "kiln-railpack-"));
    const paths = railpackPaths(workDir);
    const loaded = `kiln/railpack-load:${input.buildId}`;
    const onLine = (_s: "stdout" | "stderr", line: string) => input.log("build", line);
    try {
      input.log("build", "kiln: building with Railpack");
      await this.#step("railpack prepare", prepareCommand({ bin: this.opts.railpackBin, srcDir: input.srcDir, paths, secrets: input.secrets }), input, onLine, PREPARE_TIMEOUT_MS);
      const build = buildctlCommand({
        bin: this.opts.buildctlBin,
        addr,
        srcDir: input.srcDir,
        paths,
        frontend: this.opts.frontendImage,
        cacheKey: input.deploymentId,
        imageName: loaded,
        secrets: input.secrets,
        secretsHash: secretsHash(input.secrets, input.deploymentId),
      });
      await this.#step("buildctl build", build, input, onLine, BUILD_TIMEOUT_MS);
      await loadImage(Bun.file(paths.imageTar).stream(), input.signal);
      // Re-tag through a FROM-only build: the image gets Kiln's labels (and the wanted tag).
      await this.opts.runtime.buildImage({
        context: filesArchive({ Dockerfile: `FROM ${loaded}\n` }),
        dockerfile: "Dockerfile",
        tag: input.tag,
        labels: input.labels,
        signal: input.signal,
        onLine: (line) => input.log("build", line),
      });
      return { image: input.tag, plan: "detected by Railpack (its plan is in the build log)" };
    } finally {
      await this.opts.runtime.removeImage(loaded).catch(() => {});
      await rm(workDir, { recursive: true, force: true });
    }
  }

  async #step(what: string, cmd: Command, input: BuildInput, onLine: RunOptions["onLine"], timeoutMs: number): Promise<void> {
    const res = await this.#exec(cmd, { signal: input.signal, onLine, timeoutMs });
    if (input.signal?.aborted) throw input.signal.reason ?? new StepError(`${what} was cancelled`);
    if (res.timedOut) throw new StepError(`${what} took longer than ${Math.round(timeoutMs / 60_000)} minutes and was stopped`);
    if (res.code !== 0) {
      const last = res.tail.slice(-5).join("\n");
      throw new StepError(`${what} failed (exit ${res.code})${last ? `:\n${last}` : ""}`, "see the build log for the full output");
    }
  }
}

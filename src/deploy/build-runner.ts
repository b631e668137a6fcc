/**
 * Carries one build from queued to its end: runs the pipeline, records progress on the build and
 * the deployment, swaps the new container in, and cleans up whatever a failed build left.
 * A deployment that is running when its build starts stays `running` (the old container serves
 * until the swap); otherwise it goes building → deploying → running|failed. A status write the
 * lifecycle refuses ends the build as failed, with the reason in its log, and is counted.
 */
import { rm, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Build, Deployment, StepTiming } from "../core/deployment.ts";
import { IllegalMove } from "../core/lifecycle.ts";
import type { LogSink } from "../core/logs.ts";
import type { Store } from "../core/ports/store.ts";
import type { FetchRequest } from "../core/ports/source.ts";
import type { Secret } from "../core/secret.ts";
import type { PipelineContext, PipelineDeps } from "./context.ts";
import { DEPLOY_STEPS, failureText, formatDuration, runPipeline } from "./pipeline.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";

export interface BuildJob {
  deployment: Deployment;
  build: Build;
  source: FetchRequest;
  env: Record<string, Secret>;
  signal: AbortSignal;
}

const WHERE = "BuildRunner.run";

export class BuildRunner {
  /** Status writes the lifecycle refused (each ended its build). */
  illegalMoves = 0;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly store: Store,
    private readonly sinkFor: (deploymentId: string) => LogSink,
    private readonly watcher: RuntimeWatcher,
  ) {}

  async run(job: BuildJob): Promise<void> {
    try {
      await this.#run(job);
    } catch (err) {
      if (!(err instanceof IllegalMove)) throw err;
      this.illegalMoves++;
      this.sinkFor(job.deployment.id)("system", `build #${job.build.number} stopped: ${err.message}`);
      const b = await this.store.builds.get(job.build.id);
      if (b && (b.status === "queued" || b.status === "running")) {
        await this.store.builds.update(b.id, { status: "failed", error: err.message, finishedAt: Date.now() }, WHERE);
      }
    }
  }

  async #run(job: BuildJob): Promise<void> {
    const { deployment, build } = job;
    const log = this.sinkFor(deployment.id);
    const workDir = join(this.deps.config.dataDir, "builds", build.id);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const ctx: PipelineContext = {
      deployment,
      build,
      source: job.source,
      env: job.env,
      workDir,
      srcDir: join(workDir, "src"),
      signal: job.signal,
      log,
    };
    const started = Date.now();
    await this.store.builds.update(build.id, { status: "running" }, WHERE);
    const serving = (await this.store.deployments.get(deployment.id))?.status === "running";
    const start = { currentBuildId: build.id, failureReason: null };
    await this.store.deployments.update(deployment.id, serving ? start : { ...start, status: "building" }, WHERE);
    log("system", `build #${build.number} started`);

    let deploying = false;
    const outcome = await runPipeline(DEPLOY_STEPS, ctx, this.deps, {
      onProgress: async (step, timings) => {
        await this.store.builds.update(build.id, { steps: timings.map((t) => ({ ...t })), builder: ctx.builder ?? null }, WHERE);
        if (step.name === "run" && !serving && !deploying) {
          deploying = true; // once, as the step starts (progress is reported again as it ends)
          await this.store.deployments.update(deployment.id, { status: "deploying" }, WHERE);
        }
      },
    });
    await rm(workDir, { recursive: true, force: true }).catch(() => {});

    if (outcome.ok) {
      await this.#succeed(ctx, outcome.timings, Date.now() - started);
    } else {
      await this.#fail(ctx, outcome.timings, outcome.error);
    }
  }

  async #succeed(ctx: PipelineContext, timings: StepTiming[], totalMs: number): Promise<void> {
    const { deployment, build } = ctx;
    const previous = await this.store.deployments.get(deployment.id);
    await this.store.builds.update(build.id, {
      status: "succeeded",
      builder: ctx.builder ?? null,
      image: ctx.image ?? null,
      commit: ctx.commit ?? null,
      steps: timings,
      finishedAt: Date.now(),
    }, WHERE);
    await this.store.deployments.update(deployment.id, {
      status: "running",
      currentBuildId: build.id,
      containerId: ctx.containerId ?? null,
      upstream: ctx.upstream ?? null,
      failureReason: null,
    }, WHERE);
    this.watcher.watch(deployment.id, ctx.containerId!, Math.floor(build.createdAt / 1000) - 1);
    ctx.log("system", `deployed in ${formatDuration(totalMs)}`);
    // The route points at the new container now: the old one can go.
    const old = previous?.containerId;
    if (old && old !== ctx.containerId) {
      await this.deps.runtime.stopContainer(old, 5).catch(() => {});
      await this.deps.runtime.removeContainer(old).catch(() => {});
    }
  }

  async #fail(ctx: PipelineContext, timings: StepTiming[], error: unknown): Promise<void> {
    const { deployment, build } = ctx;
    const cancelled = ctx.signal.aborted;
    const reason = cancelled ? "cancelled" : failureText(error);
    if (ctx.containerId) {
      await this.deps.runtime.removeContainer(ctx.containerId).catch(() => {});
    }
    await this.store.builds.update(build.id, {
      status: cancelled ? "cancelled" : "failed",
      builder: ctx.builder ?? null,
      image: ctx.image ?? null,
      commit: ctx.commit ?? null,
      steps: timings,
      error: reason,
      finishedAt: Date.now(),
    }, WHERE);
    if (cancelled) return; // whoever cancelled owns the deployment's status
    // A failed redeploy leaves the previous container serving: the deployment stays up.
    const current = await this.store.deployments.get(deployment.id);
    const previousAlive = current?.containerId ? (await this.deps.runtime.inspectContainer(current.containerId))?.running : false;
    await this.store.deployments.update(deployment.id, {
      status: previousAlive ? "running" : "failed",
      failureReason: previousAlive ? `build #${build.number} failed: ${reason} (still serving the previous build)` : reason,
    }, WHERE);
  }
}

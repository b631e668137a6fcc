/**
 * Carries one build from queued to its end: runs the pipeline, records progress on the build and
 * the deployment, swaps the new container in, and cleans up whatever a failed build left.
 */
import { rm, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Build, Deployment, StepTiming } from "../core/deployment.ts";
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

export class BuildRunner {
  constructor(
    private readonly deps: PipelineDeps,
    private readonly store: Store,
    private readonly sinkFor: (deploymentId: string) => LogSink,
    private readonly watcher: RuntimeWatcher,
  ) {}

  async run(job: BuildJob): Promise<void> {
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
    await this.store.builds.update(build.id, { status: "running" });
    await this.store.deployments.update(deployment.id, { status: "building", currentBuildId: build.id, failureReason: null });
    log("system", `build #${build.number} started`);

    const outcome = await runPipeline(DEPLOY_STEPS, ctx, this.deps, {
      onProgress: async (step, timings) => {
        await this.store.builds.update(build.id, { steps: timings.map((t) => ({ ...t })), builder: ctx.builder ?? null });
        if (step.name === "run") await this.store.deployments.update(deployment.id, { status: "deploying" });
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
    });
    await this.store.deployments.update(deployment.id, {
      status: "running",
      currentBuildId: build.id,
      containerId: ctx.containerId ?? null,
      upstream: ctx.upstream ?? null,
      failureReason: null,
    });
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
    });
    if (cancelled) return; // whoever cancelled owns the deployment's status
    // A failed redeploy leaves the previous container serving: the deployment stays up.
    const current = await this.store.deployments.get(deployment.id);
    const previousAlive = current?.containerId ? (await this.deps.runtime.inspectContainer(current.containerId))?.running : false;
    await this.store.deployments.update(deployment.id, {
      status: previousAlive ? "running" : "failed",
      failureReason: previousAlive ? `build #${build.number} failed: ${reason} (still serving the previous build)` : reason,
    });
  }
}

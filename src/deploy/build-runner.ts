/**
 * Carries one change of a deployment to its end. A build job runs the whole pipeline (source →
 * image → the swap); a swap job (env or settings change, rollback, scale) runs only the swap on an
 * image already built. Either way, when the new containers pass their checks and Caddy routes to
 * them, a release is recorded, the deployment points at it, and the old containers are drained
 * (src/deploy/rollout.ts). A failure leaves the old release serving, and says why.
 * A deployment that is running when its build starts stays `running` (the old containers serve
 * until the swap); otherwise it goes building → deploying → running|failed. A status write the
 * lifecycle refuses ends the job as failed, with the reason in its log, and is counted.
 */
import { rm, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Build, Deployment, StepTiming } from "../core/deployment.ts";
import { buildEnv, encodeEnv, runtimeEnv, type AppEnv } from "../core/env.ts";
import { newId } from "../core/ids.ts";
import { IllegalMove } from "../core/lifecycle.ts";
import type { LogSink } from "../core/logs.ts";
import type { Store } from "../core/ports/store.ts";
import type { FetchRequest } from "../core/ports/source.ts";
import { releaseEnvKey, type Release, type ReleaseTrigger, type ReleaseVia } from "../core/release.ts";
import type { AppSettings } from "../core/settings.ts";
import type { PipelineContext, PipelineDeps } from "./context.ts";
import { DEPLOY_STEPS, SWAP_STEPS, failureText, formatDuration, runPipeline, type StepObserver } from "./pipeline.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";

/** What the release will say about where it came from. */
export interface ReleaseMeta {
  trigger: ReleaseTrigger;
  via: ReleaseVia;
  rollbackOf?: number | null;
  description: string;
}

export interface BuildJob {
  deployment: Deployment;
  build: Build;
  source: FetchRequest;
  env: AppEnv;
  settings: AppSettings;
  meta: ReleaseMeta;
  signal: AbortSignal;
}

/** Run an image already built (the build that made it) with this env and these settings. */
export interface SwapJob {
  deployment: Deployment;
  build: Build & { image: string };
  env: AppEnv;
  settings: AppSettings;
  meta: ReleaseMeta;
  signal: AbortSignal;
}

export type JobOutcome = { ok: true; release: Release } | { ok: false; cancelled: boolean; reason: string };

const WHERE = "BuildRunner.run";

/** Told of each step's duration and each build's end (metrics). */
export interface RunnerObserver {
  stepDone: StepObserver;
  buildDone(result: "succeeded" | "failed" | "cancelled"): void;
}

export class BuildRunner {
  /** Status writes the lifecycle refused (each ended its job). */
  illegalMoves = 0;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly store: Store,
    private readonly sinkFor: (deploymentId: string) => LogSink,
    private readonly watcher: RuntimeWatcher,
    /** Releases kept per deployment (KILN_KEEP_RELEASES); older ones are forgotten, their images collected. */
    private readonly keepReleases: number,
    private readonly observer?: RunnerObserver,
  ) {}

  async run(job: BuildJob): Promise<JobOutcome> {
    const outcome = await this.#run(job);
    this.observer?.buildDone(outcome.ok ? "succeeded" : outcome.cancelled ? "cancelled" : "failed");
    return outcome;
  }

  async #run(job: BuildJob): Promise<JobOutcome> {
    try {
      return await this.#build(job);
    } catch (err) {
      if (!(err instanceof IllegalMove)) throw err;
      this.illegalMoves++;
      this.sinkFor(job.deployment.id)("system", `build #${job.build.number} stopped: ${err.message}`);
      const b = await this.store.builds.get(job.build.id);
      if (b && (b.status === "queued" || b.status === "running")) {
        await this.store.builds.update(b.id, { status: "failed", error: err.message, finishedAt: Date.now() }, WHERE);
      }
      return { ok: false, cancelled: false, reason: err.message };
    }
  }

  /** A swap without a build: the old release serves until the new containers pass; a failure changes nothing. */
  async swap(job: SwapJob): Promise<JobOutcome> {
    const { deployment } = job;
    const log = this.sinkFor(deployment.id);
    const ctx = this.#context(job, job.build, { kind: "tarball", file: "" }, "");
    ctx.image = job.build.image;
    ctx.buildPort = job.build.port;
    log("system", `${job.meta.description}: starting the new release`);
    const started = Date.now();
    const outcome = await runPipeline(SWAP_STEPS, ctx, this.deps, { onProgress: async () => {} }, this.observer?.stepDone);
    if (outcome.ok) {
      try {
        const release = await this.#goLive(ctx, job, Date.now() - started);
        return { ok: true, release };
      } catch (err) {
        if (!(err instanceof IllegalMove)) throw err;
        this.illegalMoves++;
        await this.deps.rollout.discard((ctx.instances ?? []).map((i) => i.containerId));
        log("system", `${job.meta.description} stopped: ${err.message}`);
        return { ok: false, cancelled: false, reason: err.message };
      }
    }
    await this.deps.rollout.discard((ctx.instances ?? []).map((i) => i.containerId));
    const cancelled = ctx.signal.aborted;
    const reason = cancelled ? "cancelled" : failureText(outcome.error);
    if (!cancelled) {
      const current = await this.store.deployments.get(deployment.id);
      const serving = current?.currentReleaseId ? await this.store.releases.get(current.currentReleaseId) : null;
      const still = serving ? ` (still serving release #${serving.number})` : "";
      log("system", `${job.meta.description} failed: ${reason.split("\n")[0]}${still}`);
      if (current && current.status === "running") {
        await this.store.deployments.update(deployment.id, { status: "running", failureReason: `${job.meta.description} failed: ${reason}${still}` }, WHERE).catch(() => {});
      }
    }
    return { ok: false, cancelled, reason };
  }

  #context(job: BuildJob | SwapJob, build: Build, source: FetchRequest, workDir: string): PipelineContext {
    return {
      deployment: job.deployment,
      build,
      source,
      env: runtimeEnv(job.env),
      buildEnv: buildEnv(job.env),
      settings: job.settings,
      workDir,
      srcDir: join(workDir, "src"),
      signal: job.signal,
      log: this.sinkFor(job.deployment.id),
    };
  }

  async #build(job: BuildJob): Promise<JobOutcome> {
    const { deployment, build } = job;
    const log = this.sinkFor(deployment.id);
    const workDir = join(this.deps.config.dataDir, "builds", build.id);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const ctx = this.#context(job, build, job.source, workDir);
    const started = Date.now();
    await this.store.builds.update(build.id, { status: "running" }, WHERE);
    const serving = (await this.store.deployments.get(deployment.id))?.status === "running";
    const start = { currentBuildId: build.id, failureReason: null };
    await this.store.deployments.update(deployment.id, serving ? start : { ...start, status: "building" }, WHERE);
    log("system", `build #${build.number} started`);

    let deploying = false;
    const outcome = await runPipeline(DEPLOY_STEPS, ctx, this.deps, {
      onProgress: async (step, timings) => {
        await this.store.builds.update(build.id, { steps: timings.map((t) => ({ ...t })), builder: ctx.builder ?? null, plan: ctx.plan ?? null }, WHERE);
        if (step.name === "run" && !serving && !deploying) {
          deploying = true; // once, as the step starts (progress is reported again as it ends)
          await this.store.deployments.update(deployment.id, { status: "deploying" }, WHERE);
        }
      },
    }, this.observer?.stepDone);
    await rm(workDir, { recursive: true, force: true }).catch(() => {});

    if (outcome.ok) {
      await this.store.builds.update(build.id, {
        status: "succeeded",
        builder: ctx.builder ?? null,
        image: ctx.image ?? null,
        port: ctx.buildPort ?? null,
        plan: ctx.plan ?? null,
        commit: ctx.commit ?? null,
        steps: outcome.timings,
        finishedAt: Date.now(),
      }, WHERE);
      return { ok: true, release: await this.#goLive(ctx, job, Date.now() - started) };
    }
    return this.#fail(ctx, outcome.timings, outcome.error);
  }

  /**
   * The new containers serve: record the release (its env snapshot in the secret store), point the
   * deployment at it and them, follow their logs, drain the old ones, forget releases beyond the kept.
   */
  async #goLive(ctx: PipelineContext, job: BuildJob | SwapJob, totalMs: number): Promise<Release> {
    const { deployment, build } = ctx;
    const previous = await this.store.deployments.get(deployment.id);
    const release: Release = {
      id: newId(),
      deploymentId: deployment.id,
      number: await this.store.releases.nextNumber(deployment.id),
      buildId: build.id,
      image: ctx.image!,
      buildPort: ctx.buildPort ?? null,
      envKeys: Object.keys(job.env).sort(),
      settings: job.settings,
      trigger: job.meta.trigger,
      via: job.meta.via,
      rollbackOf: job.meta.rollbackOf ?? null,
      description: job.meta.description,
      createdAt: Date.now(),
    };
    await this.store.secrets.put(releaseEnvKey(deployment.id, release.id), encodeEnv(job.env));
    await this.store.releases.insert(release);
    const instances = ctx.instances ?? [];
    await this.store.deployments.update(deployment.id, {
      status: "running",
      currentBuildId: build.id,
      currentReleaseId: release.id,
      instances,
      failureReason: null,
    }, WHERE);
    this.deps.rollout.follow(deployment.id, instances);
    ctx.log("system", `release #${release.number} serving (${job.meta.description}), deployed in ${formatDuration(totalMs)}`);
    const old = (previous?.instances ?? []).filter((o) => !instances.some((i) => i.containerId === o.containerId));
    if (old.length) {
      void this.deps.rollout.drain(deployment.id, old, (previous?.settings ?? job.settings).drainTimeoutMs, ctx.log).then(
        () => ctx.log("system", `drained and stopped ${old.length} old container${old.length > 1 ? "s" : ""}`),
        (err: unknown) => ctx.log("system", `drain: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    await this.#forgetOldReleases(deployment.id);
    return release;
  }

  /** Releases beyond the kept number go (rows and env snapshots); gc.ts then removes images no kept release uses. */
  async #forgetOldReleases(deploymentId: string): Promise<void> {
    const all = await this.store.releases.listFor(deploymentId);
    for (const r of all.slice(Math.max(1, this.keepReleases))) {
      await this.store.releases.delete(r.id);
      await this.store.secrets.deletePrefix(`deployment/${deploymentId}/release/${r.id}/`);
    }
  }

  async #fail(ctx: PipelineContext, timings: StepTiming[], error: unknown): Promise<JobOutcome> {
    const { deployment, build } = ctx;
    const cancelled = ctx.signal.aborted;
    const reason = cancelled ? "cancelled" : failureText(error);
    await this.deps.rollout.discard((ctx.instances ?? []).map((i) => i.containerId));
    await this.store.builds.update(build.id, {
      status: cancelled ? "cancelled" : "failed",
      builder: ctx.builder ?? null,
      image: ctx.image ?? null,
      port: ctx.buildPort ?? null,
      commit: ctx.commit ?? null,
      steps: timings,
      error: reason,
      finishedAt: Date.now(),
    }, WHERE);
    if (cancelled) return { ok: false, cancelled, reason }; // whoever cancelled owns the deployment's status
    // A failed redeploy leaves the previous containers serving: the deployment stays up.
    const current = await this.store.deployments.get(deployment.id);
    const previousAlive = await this.deps.rollout.anyRunning(current?.instances ?? []);
    const serving = current?.currentReleaseId ? await this.store.releases.get(current.currentReleaseId) : null;
    const still = serving ? `release #${serving.number}` : "the previous build";
    await this.store.deployments.update(deployment.id, {
      status: previousAlive ? "running" : "failed",
      failureReason: previousAlive ? `build #${build.number} failed: ${reason} (still serving ${still})` : reason,
    }, WHERE);
    return { ok: false, cancelled, reason };
  }
}

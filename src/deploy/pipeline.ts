/**
 * Runs a list of steps over one context. The runner owns what every step shares:
 * timing, the "▸ step / ✓ step in 1.2 s / ✗ step" lines, cancellation and reporting progress.
 * Steps stay small functions of (ctx, deps).
 */
import type { StepName, StepTiming } from "../core/deployment.ts";
import { KilnError, errorMessage } from "../core/errors.ts";
import type { PipelineContext, PipelineDeps, Step } from "./context.ts";
import { buildImage } from "./steps/build-image.ts";
import { fetchSource } from "./steps/fetch-source.ts";
import { publishRoute } from "./steps/publish-route.ts";
import { startContainer } from "./steps/start-container.ts";
import { waitReady } from "./steps/wait-ready.ts";

/** What runs an image as the serving release: the zero-downtime swap. */
export const SWAP_STEPS: readonly Step[] = [startContainer, waitReady, publishRoute];
export const DEPLOY_STEPS: readonly Step[] = [fetchSource, buildImage, ...SWAP_STEPS];

export interface PipelineHooks {
  /** Called when a step starts and ends, with all timings so far. */
  onProgress(step: Step, timings: StepTiming[]): Promise<void>;
}

/** Told of every step that ended, ok or not (metrics); set once by the composition root. */
export type StepObserver = (step: StepName, durationMs: number) => void;

export type PipelineOutcome = { ok: true; timings: StepTiming[] } | { ok: false; timings: StepTiming[]; failedStep: Step; error: unknown };

export async function runPipeline(steps: readonly Step[], ctx: PipelineContext, deps: PipelineDeps, hooks: PipelineHooks, observe?: StepObserver): Promise<PipelineOutcome> {
  const timings: StepTiming[] = [];
  for (const step of steps) {
    const timing: StepTiming = { name: step.name, startedAt: Date.now(), durationMs: null, ok: null };
    timings.push(timing);
    await hooks.onProgress(step, timings);
    ctx.log("system", `▸ ${step.title}`);
    try {
      ctx.signal.throwIfAborted();
      await step.run(ctx, deps);
      timing.durationMs = Date.now() - timing.startedAt;
      timing.ok = true;
      observe?.(step.name, timing.durationMs);
      ctx.log("system", `✓ ${step.title} (${formatDuration(timing.durationMs)})`);
      await hooks.onProgress(step, timings);
    } catch (error) {
      const observed = timing.ok !== null; // the step ended well and reporting it failed: counted already
      timing.durationMs = Date.now() - timing.startedAt;
      timing.ok = false;
      if (!observed) observe?.(step.name, timing.durationMs);
      const msg = ctx.signal.aborted ? "cancelled" : failureText(error);
      ctx.log("system", `✗ ${step.title} failed after ${formatDuration(timing.durationMs)}: ${msg}`);
      await hooks.onProgress(step, timings);
      return { ok: false, timings, failedStep: step, error };
    }
  }
  return { ok: true, timings };
}

/** What a failed step tells the user: the error's message and, when it has one, what to do about it. */
export function failureText(error: unknown): string {
  const message = errorMessage(error);
  return error instanceof KilnError && error.hint ? `${message}\nhint: ${error.hint}` : message;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

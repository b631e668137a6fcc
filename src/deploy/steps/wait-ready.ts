/**
 * Step 4: wait until every new container passes the app's health check (settings.healthcheck), or
 * answers HTTP at all when it has none. One that exits or never passes fails the step with why;
 * the old release keeps serving.
 */
import { StepError } from "../../core/errors.ts";
import type { Step } from "../context.ts";
import { targetOf } from "./target.ts";

export const waitReady: Step = {
  name: "healthy",
  title: "waiting for the app to pass its health check",
  async run(ctx, deps) {
    if (!ctx.instances?.length) throw new StepError("no container to wait for");
    const ready = await deps.rollout.waitHealthy(targetOf(ctx), ctx.instances, ctx.signal, ctx.log);
    ctx.instances = ready.instances;
    if (ready.port) ctx.buildPort = ready.port; // where the app really listens: recorded on the build and release
  },
};

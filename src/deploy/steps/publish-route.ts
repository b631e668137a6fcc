/** Step 5: point the app's stable URLs at the new containers (one Caddy route, its upstreams swapped in place). */
import { StepError } from "../../core/errors.ts";
import type { Step } from "../context.ts";
import { targetOf } from "./target.ts";

export const publishRoute: Step = {
  name: "route",
  title: "publishing route",
  async run(ctx, deps) {
    if (!ctx.instances?.length) throw new StepError("no containers to route to");
    await deps.rollout.publish(targetOf(ctx), ctx.instances);
  },
};

/** Step 5: point the app's stable URLs at the new container (one Caddy route, swapped in place). */
import { StepError } from "../../core/errors.ts";
import type { Step } from "../context.ts";

export const publishRoute: Step = {
  name: "route",
  title: "publishing route",
  async run(ctx, deps) {
    if (!ctx.upstream) throw new StepError("no upstream to route to");
    await deps.routes.upsert({ deploymentId: ctx.deployment.id, name: ctx.deployment.name, upstream: ctx.upstream });
  },
};

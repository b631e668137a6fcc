/** The release a pipeline's context is about to serve, as the rollout takes it. */
import type { PipelineContext } from "../context.ts";
import type { ReleaseTarget } from "../rollout.ts";

export function targetOf(ctx: PipelineContext): ReleaseTarget {
  return {
    deployment: ctx.deployment,
    buildId: ctx.build.id,
    image: ctx.image!,
    buildPort: ctx.buildPort ?? null,
    env: ctx.env,
    settings: ctx.settings,
  };
}

/**
 * Step 3: run the image as the deployment's containers, one per replica (src/deploy/rollout.ts,
 * spec: src/containers/app-spec.ts), published on loopback only, on Kiln's isolated network and the
 * shared networks the deployment names. The old release keeps serving meanwhile.
 */
import { StepError } from "../../core/errors.ts";
import type { Step } from "../context.ts";
import { targetOf } from "./target.ts";

export const startContainer: Step = {
  name: "run",
  title: "starting container",
  async run(ctx, deps) {
    if (!ctx.image) throw new StepError("no image to run");
    ctx.instances = await deps.rollout.start(targetOf(ctx), ctx.signal, ctx.log);
  },
};

/** Step 2: choose a builder for the source tree and build the app's image. */
import { chooseBuilder } from "../builder-choice.ts";
import type { Step } from "../context.ts";
import { imageLabels, imageTag } from "../../core/labels.ts";

export const buildImage: Step = {
  name: "build",
  title: "building image",
  async run(ctx, deps) {
    const builder = await chooseBuilder(deps.builders, ctx.srcDir);
    ctx.builder = builder.name;
    ctx.log("system", `builder: ${builder.name}`);
    const out = await builder.build({
      deploymentId: ctx.deployment.id,
      buildId: ctx.build.id,
      srcDir: ctx.srcDir,
      tag: imageTag(ctx.deployment.name, ctx.build.id),
      labels: imageLabels(deps.instanceId, ctx.deployment.id, ctx.build.id),
      secrets: ctx.env,
      signal: ctx.signal,
      log: ctx.log,
    });
    ctx.image = out.image;
    ctx.port = out.port;
  },
};

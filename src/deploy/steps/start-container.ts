/** Step 3: run the image as the deployment's container (spec: src/containers/app-spec.ts), published on loopback only. */
import { StepError } from "../../core/errors.ts";
import { appContainerSpec } from "../../containers/app-spec.ts";
import type { Step } from "../context.ts";

export const startContainer: Step = {
  name: "run",
  title: "starting container",
  async run(ctx, deps) {
    if (!ctx.image) throw new StepError("no image to run");
    const spec = appContainerSpec({
      name: ctx.deployment.name,
      deploymentId: ctx.deployment.id,
      buildId: ctx.build.id,
      image: ctx.image,
      env: ctx.env,
      port: ctx.port,
      limits: deps.config.appLimits,
      network: deps.config.dockerNetwork,
      instanceId: deps.instanceId,
    });
    const id = await deps.runtime.createContainer(spec);
    ctx.containerId = id;
    await deps.runtime.startContainer(id);
    const info = await deps.runtime.inspectContainer(id);
    if (!info?.published) throw new StepError("the container started without a published port");
    ctx.upstream = info.published;
    ctx.log("system", `container ${spec.name} started, app port ${spec.publishPort} on ${info.published}`);
  },
};

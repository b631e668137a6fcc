/**
 * Step 3: run the image as the deployment's container (spec: src/containers/app-spec.ts), published on
 * loopback only, on Kiln's isolated network and the shared networks the deployment names.
 */
import { StepError } from "../../core/errors.ts";
import { appContainerSpec } from "../../containers/app-spec.ts";
import type { Step } from "../context.ts";
import { MANAGED } from "../../core/labels.ts";

/** The label of a shared network Kiln made, with the name the user gave it. */
const SHARED_NETWORK = "kiln.shared-network";

export const startContainer: Step = {
  name: "run",
  title: "starting container",
  async run(ctx, deps) {
    if (!ctx.image) throw new StepError("no image to run");
    // Shared networks the user named are made on first use (inter-container traffic on there).
    for (const net of ctx.deployment.networks) {
      await deps.runtime.ensureNetwork(net, { [MANAGED]: "true", [SHARED_NETWORK]: net }, "shared");
    }
    const spec = appContainerSpec({
      name: ctx.deployment.name,
      deploymentId: ctx.deployment.id,
      buildId: ctx.build.id,
      image: ctx.image,
      env: ctx.env,
      port: ctx.port,
      limits: deps.config.appLimits,
      network: deps.config.dockerNetwork,
      sharedNetworks: ctx.deployment.networks,
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

/** Step 3: run the image as the deployment's container: hardened, limited, published on loopback only. */
import { StepError } from "../../core/errors.ts";
import type { ContainerSpec } from "../../core/ports/runtime.ts";
import type { PipelineContext, PipelineDeps, Step } from "../context.ts";
import { containerName, deploymentLabels } from "../../core/labels.ts";

export const DEFAULT_APP_PORT = 3000;

export function appContainerSpec(ctx: PipelineContext, deps: PipelineDeps): ContainerSpec {
  if (!ctx.image) throw new StepError("no image to run");
  const port = ctx.port ?? DEFAULT_APP_PORT;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) env[k] = v.reveal();
  env.PORT = String(port);
  const limits = deps.config.appLimits;
  return {
    name: containerName(ctx.deployment.name, ctx.build.id),
    image: ctx.image,
    labels: deploymentLabels(deps.instanceId, ctx.deployment.id, ctx.build.id),
    env,
    network: deps.config.dockerNetwork,
    publishPort: port,
    memoryBytes: limits.memoryBytes,
    nanoCpus: limits.nanoCpus,
    pidsLimit: limits.pids,
    restartPolicy: "on-failure",
  };
}

export const startContainer: Step = {
  name: "run",
  title: "starting container",
  async run(ctx, deps) {
    const spec = appContainerSpec(ctx, deps);
    const id = await deps.runtime.createContainer(spec);
    ctx.containerId = id;
    await deps.runtime.startContainer(id);
    const info = await deps.runtime.inspectContainer(id);
    if (!info?.published) throw new StepError("the container started without a published port");
    ctx.upstream = info.published;
    ctx.log("system", `container ${spec.name} started, app port ${spec.publishPort} on ${info.published}`);
  },
};

/**
 * Step 2: choose a builder for the source tree (from settings.rootDir, for monorepos) and build the
 * app's image. Only build-time variables reach the build, as secrets.
 */
import { join } from "node:path";
import { statBeneath } from "../../adapters/fs/beneath.ts";
import { StepError } from "../../core/errors.ts";
import { chooseBuilder } from "../builder-choice.ts";
import type { Step } from "../context.ts";
import { imageLabels, imageTag } from "../../core/labels.ts";

export const buildImage: Step = {
  name: "build",
  title: "building image",
  async run(ctx, deps) {
    const rootDir = ctx.settings.rootDir;
    if (rootDir) {
      // From the tree as fetched, else from inside its one top-level folder (an upload of `repo/`).
      const roots = [...new Set([ctx.fetchedDir ?? ctx.srcDir, ctx.srcDir])];
      let found: string | null = null;
      for (const root of roots) if (!found && (await statBeneath(root, rootDir))?.kind === "directory") found = join(root, rootDir);
      if (!found) {
        throw new StepError(`settings.rootDir: ${rootDir} is not a folder of the source`, "set rootDir to a folder that exists in the repository or upload (e.g. apps/web), or clear it");
      }
      ctx.srcDir = found;
      ctx.log("system", `building from ${rootDir}/`);
    }
    const builder = await chooseBuilder(deps.builders, ctx.srcDir);
    ctx.builder = builder.name;
    ctx.log("system", `builder: ${builder.name}`);
    const out = await builder.build({
      deploymentId: ctx.deployment.id,
      buildId: ctx.build.id,
      srcDir: ctx.srcDir,
      tag: imageTag(ctx.deployment.name, ctx.build.id),
      labels: imageLabels(deps.instanceId, ctx.deployment.id, ctx.build.id),
      secrets: ctx.buildEnv,
      ...(ctx.settings.buildCommand ? { buildCommand: ctx.settings.buildCommand } : {}),
      signal: ctx.signal,
      log: ctx.log,
    });
    ctx.image = out.image;
    ctx.buildPort = out.port ?? null;
    if (out.plan) ctx.plan = out.plan;
  },
};

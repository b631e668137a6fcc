/**
 * Kiln's zero-config builder, the fallback when there is neither Railpack nor a Dockerfile:
 * detect the app (detect.ts), generate a Dockerfile (dockerfile-gen.ts), put it in the build
 * context as `.kiln/Dockerfile` (a name the tree does not use; the user's directory is not
 * touched) and build with the container runtime.
 *
 * Build-time secrets are not passed to this build: nothing the generated steps run needs
 * them, and the app's environment (secrets included) is given to its container at run time.
 */
import type { BuildInput, BuildOutput, ImageBuilder } from "../../core/ports/builder.ts";
import type { ImageBuildRequest } from "../../core/ports/runtime.ts";
import { defaultPackDir, freeContextDir, loadDockerignore, withFilesInFront, type PackDir } from "./build-context.ts";
import { detectApp, type AppPlan, type PlanChoice } from "./detect.ts";
import { generateDockerfile } from "./dockerfile-gen.ts";

export interface KilnBuilderOptions {
  /** ContainerRuntime's buildImage; DockerEngine's also names the steps reused from the build cache. */
  runtime: { buildImage(req: ImageBuildRequest): Promise<{ imageId: string; cachedSteps?: string[] }> };
  /** The image apps are built FROM (e.g. ensureNodeBaseImage's), made on first use. */
  baseImage: () => Promise<string>;
  /** Packs the source tree (default: the tar writer's packDirectoryStream). */
  packDir?: PackDir;
  /** Node major of the base image, for the engines.node check (default: read from its tag). */
  nodeMajor?: number;
  /** Let corepack verify registry signatures (see DockerfileOptions). Default false. */
  corepackSignatures?: boolean;
}

/** What a zero-config build made, and which of its steps the build cache served (when the runtime says). */
export interface KilnBuildOutput extends BuildOutput {
  cachedSteps?: string[];
}

/** Never sent in a zero-config build context: dependencies are installed fresh in the image. */
export const ALWAYS_IGNORED = [".git", "node_modules"];

export class KilnBuilder implements ImageBuilder {
  readonly name = "kiln" as const;

  constructor(private readonly opts: KilnBuilderOptions) {}

  /** Always: this is the fallback. What it cannot build, build() reports with what it looked for. */
  async applies(_srcDir: string): Promise<boolean> {
    return true;
  }

  async build(input: BuildInput): Promise<KilnBuildOutput> {
    const baseImage = await this.opts.baseImage();
    const plan = await detectApp(input.srcDir, { nodeMajor: this.opts.nodeMajor ?? nodeMajorOf(baseImage) });
    if (input.buildCommand) {
      plan.buildCmd = input.buildCommand;
      plan.reasons.build = "settings.buildCommand";
    }
    for (const line of planSummary(plan)) input.log("build", line);
    if (Object.keys(input.secrets).length > 0) {
      input.log("build", "kiln: build-time secrets are not passed to the zero-config build; the app gets its environment when it runs");
    }
    const kilnDir = await freeContextDir(input.srcDir);
    const dockerfilePath = `${kilnDir}/Dockerfile`;
    const dockerfile = generateDockerfile(plan, { baseImage, kilnDir, corepackSignatures: this.opts.corepackSignatures });
    const ignore = await loadDockerignore(input.srcDir, ALWAYS_IGNORED);
    const packed = await (this.opts.packDir ?? defaultPackDir)(input.srcDir, { ignore });
    const built = await this.opts.runtime.buildImage({
      context: withFilesInFront({ [dockerfilePath]: dockerfile }, packed),
      dockerfile: dockerfilePath,
      tag: input.tag,
      labels: input.labels,
      signal: input.signal,
      onLine: (line) => input.log("build", line),
    });
    const output: KilnBuildOutput = { image: input.tag, port: plan.port };
    if (built.cachedSteps) output.cachedSteps = built.cachedSteps;
    return output;
  }
}

/** The build-log lines that say what was detected and why. */
export function planSummary(plan: AppPlan): string[] {
  const value: Record<PlanChoice, string | undefined> = {
    kind: plan.kind === "node" ? "Node.js app" : plan.kind === "static" ? "static site" : "Procfile app",
    packageManager: plan.packageManager ? `${plan.packageManager}${plan.yarnBerry ? " 2+" : ""}` : undefined,
    install: plan.installCmd,
    build: plan.buildCmd,
    start: plan.startCmd,
    port: String(plan.port),
    node: plan.nodeVersion,
  };
  const lines: string[] = [];
  for (const choice of Object.keys(value) as PlanChoice[]) {
    const v = value[choice];
    const why = plan.reasons[choice];
    if (v === undefined && why === undefined) continue;
    lines.push(`kiln: ${choice}: ${v ?? "none"}${why ? ` (${why})` : ""}`);
  }
  for (const w of plan.warnings) lines.push(`kiln: warning: ${w}`);
  return lines;
}

/** The Node major in an image tag: kiln/node-runtime:20-host → 20, node:22-bookworm-slim → 22. */
export function nodeMajorOf(ref: string): number | undefined {
  const tag = ref.slice(ref.lastIndexOf("/") + 1).split(":")[1];
  const m = tag ? /^v?(\d+)(?:[.-]|$)/.exec(tag) : null;
  return m ? Number(m[1]) : undefined;
}

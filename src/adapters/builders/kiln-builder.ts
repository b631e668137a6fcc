/**
 * Kiln's zero-config builder, the fallback when there is neither Railpack nor a Dockerfile:
 * detect the app (detect.ts), generate a Dockerfile (dockerfile-gen.ts), put it in the build
 * context as `.kiln/Dockerfile` beside the tree, packed under `source/` (the user's directory is
 * not touched; a static site's Caddyfile goes beside the Dockerfile) and build with the container
 * runtime.
 *
 * Build-time secrets reach the install, build and prune steps as env vars, through BuildKit
 * secret mounts (the runtime serves them over a build session): never build args, never in a
 * layer or the image history. The Dockerfile names them; their values are never in it. A digest
 * of the values (`.kiln/secrets.sha256` in the context, bind-mounted into those steps) makes a
 * changed value rerun them: BuildKit's cache ignores secret values. Only `source/` is copied into
 * the image, so the digest never reaches it.
 */
import { planLine } from "./plan-line.ts";
import { createHash } from "node:crypto";
import type { BuildInput, BuildOutput, ImageBuilder } from "../../core/ports/builder.ts";
import type { Secret } from "../../core/secret.ts";
import type { ImageBuildRequest } from "../../core/ports/runtime.ts";
import { defaultPackDir, loadDockerignore, withFilesInFront, type PackDir } from "./build-context.ts";
import { detectApp } from "./detect.ts";
import { kindLabel, type AppPlan, type PlanChoice, type ResolvedImage, type RuntimeRequest } from "./plan.ts";
import { generateDockerfile } from "./dockerfile-gen.ts";
import { missingSiteError, missingSiteLine, siteDirs, staticContextFiles } from "./static-site.ts";
import { explainToolFailure } from "./tool-failures.ts";
import { StepError } from "../../core/errors.ts";

export interface KilnBuilderOptions {
  /** ContainerRuntime's buildImage; DockerEngine's also names the steps reused from the build cache. */
  runtime: { buildImage(req: ImageBuildRequest): Promise<{ imageId: string; cachedSteps?: string[] }> };
  /**
   * The image for a runtime the plan needs (RuntimeImages.resolve: the official image when it is
   * local or pullable, else one assembled from the host), made on first use; its warnings (a
   * version no image here has) go to the build log.
   */
  baseImage: (req: RuntimeRequest) => Promise<string | ResolvedImage>;
  /** Packs the source tree (default: the tar writer's packDirectoryStream). */
  packDir?: PackDir;
  /** Let corepack verify registry signatures (see DockerfileOptions). Default false. */
  corepackSignatures?: boolean;
}

/** What a zero-config build made, and which of its steps the build cache served (when the runtime says). */
export interface KilnBuildOutput extends BuildOutput {
  cachedSteps?: string[];
}

/** How many of a failed build's last output lines explainToolFailure reads. */
const TOOL_TAIL = 60;

/**
 * The build context holds the source tree under SOURCE_DIR and Kiln's files (the Dockerfile, a
 * static site's Caddyfile, the secrets' digest) under KILN_DIR beside it: the Dockerfile copies only
 * the tree, so Kiln's files never reach the image and no step has to delete them.
 */
export const SOURCE_DIR = "source";
export const KILN_DIR = ".kiln";

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
    const plan = await detectApp(input.srcDir);
    if (input.buildCommand) {
      plan.buildCmd = input.buildCommand;
      plan.reasons.build = "settings.buildCommand";
      // A plain static site has no Node.js stage; a build command gets one (sh, node, npm).
      if (plan.buildImage.name === "static") plan.buildImage = { name: "node" };
    }
    const images = await this.#images(plan);
    input.log("build", `kiln: ${planLine(plan)}`);
    for (const line of planSummary(plan)) input.log("build", line);
    const secretNames = Object.keys(input.secrets).sort();
    if (secretNames.length > 0) {
      const used = plan.installCmd || plan.buildCmd || plan.pruneCmd;
      input.log(
        "build",
        used
          ? `kiln: build-time secrets available as env vars to the install, build and prune steps (not stored in the image): ${secretNames.join(", ")}`
          : `kiln: build-time secrets ${secretNames.join(", ")} are not used: this app has no install, build or prune step`,
      );
    }
    const kilnDir = KILN_DIR;
    const dockerfilePath = `${kilnDir}/Dockerfile`;
    const digestPath = `${kilnDir}/secrets.sha256`;
    const extra: Record<string, string> = {
      ...(secretNames.length > 0 ? { [digestPath]: secretsDigest(input.secrets) } : {}),
      ...staticContextFiles(plan, kilnDir),
    };
    const dockerfile = generateDockerfile(plan, {
      images,
      kilnDir,
      sourceDir: SOURCE_DIR,
      corepackSignatures: this.opts.corepackSignatures,
      secretNames,
      secretsDigestFile: secretNames.length > 0 ? digestPath : undefined,
    });
    const ignore = await loadDockerignore(input.srcDir, ALWAYS_IGNORED);
    const packed = await (this.opts.packDir ?? defaultPackDir)(input.srcDir, { ignore, prefix: SOURCE_DIR });
    // A static build that made no site prints this line (static-site.ts): that is the build's error.
    const noSite = plan.kind === "static" ? missingSiteLine(siteDirs(plan.serve)) : undefined;
    let siteMissing = false;
    // The last lines of output: a tool failure Kiln recognises there (no package index) becomes the error.
    const tail: string[] = [];
    const built = await this.opts.runtime
      .buildImage({
        context: withFilesInFront({ [dockerfilePath]: dockerfile, ...extra }, packed),
        dockerfile: dockerfilePath,
        tag: input.tag,
        labels: input.labels,
        secrets: input.secrets,
        signal: input.signal,
        onLine: (line) => {
          if (line.trim() === noSite) siteMissing = true;
          if (tail.push(line) > TOOL_TAIL) tail.shift();
          input.log("build", line);
        },
      })
      .catch((err: unknown) => {
        if (siteMissing) throw missingSiteError(siteDirs(plan.serve));
        // The tail is the build's output: a build-time secret the tool printed is masked, as in a failed step's reason.
        const hide = Object.values(input.secrets).map((v) => v.reveal()).filter((v) => v.length >= 4);
        const tool = err instanceof StepError ? explainToolFailure(tail.map((l) => hide.reduce((t, v) => t.split(v).join("***"), l))) : null;
        throw tool ? new StepError(tool.message, tool.hint) : err;
      });
    const output: KilnBuildOutput = { image: input.tag, port: plan.port, plan: planLine(plan) };
    if (built.cachedSteps) output.cachedSteps = built.cachedSteps;
    return output;
  }

  /** The build and run images; their warnings (a version the image does not satisfy) join the plan's. */
  async #images(plan: AppPlan): Promise<{ build: string; run: string }> {
    const resolve = async (req: RuntimeRequest): Promise<string> => {
      const got = await this.opts.baseImage(req);
      const image: ResolvedImage = typeof got === "string" ? { ref: got } : got;
      for (const w of image.warnings ?? []) if (!plan.warnings.includes(w)) plan.warnings.push(w);
      return image.ref;
    };
    const build = await resolve(plan.buildImage);
    const same = plan.runImage.name === plan.buildImage.name && plan.runImage.version === plan.buildImage.version;
    return { build, run: same ? build : await resolve(plan.runImage) };
  }
}

/**
 * sha256 over the secrets' names and values: a cache key only, so a changed value reruns the
 * steps that read them. It stays in the build context and the build stage (local to the engine,
 * which holds the values in the app's container env anyway), never in the app's image.
 */
export function secretsDigest(secrets: Record<string, Secret>): string {
  const hash = createHash("sha256").update("kiln build secrets v1\n");
  for (const name of Object.keys(secrets).sort()) hash.update(`${JSON.stringify(name)}=${JSON.stringify(secrets[name]!.reveal())}\n`);
  return `${hash.digest("hex")}\n`;
}

/** The build-log lines that say what was detected and why. */
export function planSummary(plan: AppPlan): string[] {
  const value: Record<PlanChoice, string | undefined> = {
    kind: kindLabel(plan),
    packageManager: plan.packageManager ? `${plan.packageManager}${plan.yarnBerry ? " 2+" : ""}` : undefined,
    install: plan.installCmd,
    build: plan.buildCmd,
    start: plan.startCmd,
    port: String(plan.port),
    runtime: plan.buildImage.version ? `${plan.buildImage.name} ${plan.buildImage.version}` : undefined,
    serve: plan.serve ? `${plan.serve.dir}/${plan.serve.spa ? " (SPA fallback to index.html)" : ""}` : undefined,
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

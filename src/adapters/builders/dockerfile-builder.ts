/**
 * Builds the app's own Dockerfile (at the root of the source) with the container runtime.
 *
 * The context is the tree filtered by its .dockerignore (the Dockerfile and .dockerignore are
 * always sent, as the docker CLI does). A `# syntax=` directive is dropped by default — BuildKit
 * would pull that frontend image and Kiln may have no registry — the Dockerfile is then built
 * by the engine's built-in frontend from a copy at `.kiln/Dockerfile` in the context.
 * Build-time secrets are BuildKit secrets (served over the build's session): the Dockerfile reads
 * one with `RUN --mount=type=secret,id=NAME` at /run/secrets/NAME. Never build args, which
 * would stay in the image history.
 */
import { StepError } from "../../core/errors.ts";
import type { BuildInput, BuildOutput, ImageBuilder } from "../../core/ports/builder.ts";
import type { ContainerRuntime } from "../../core/ports/runtime.ts";
import { isFileBeneath, readBeneath } from "../fs/beneath.ts";
import { defaultPackDir, freeContextDir, loadDockerignore, withFilesInFront, type PackDir } from "./build-context.ts";

export interface DockerfileBuilderOptions {
  runtime: Pick<ContainerRuntime, "buildImage">;
  /** Packs the source tree (default: the tar writer's packDirectoryStream). */
  packDir?: PackDir;
  /** Keep a `# syntax=` directive (needs a registry to pull the frontend). Default false. */
  keepSyntaxDirective?: boolean;
}

const ALWAYS_SENT = new Set(["Dockerfile", ".dockerignore"]);

export class DockerfileBuilder implements ImageBuilder {
  readonly name = "dockerfile" as const;

  constructor(private readonly opts: DockerfileBuilderOptions) {}

  async applies(srcDir: string): Promise<boolean> {
    return isFileBeneath(srcDir, "Dockerfile");
  }

  async build(input: BuildInput): Promise<BuildOutput> {
    const original = await readBeneath(input.srcDir, "Dockerfile");
    if (original === null) throw new StepError("the Dockerfile is gone from the source", "deploy again");
    const { text, directive } = this.opts.keepSyntaxDirective ? { text: original, directive: null } : stripSyntaxDirective(original);
    input.log("build", "kiln: building the app's own Dockerfile");
    const secretNames = Object.keys(input.secrets).sort();
    if (secretNames.length > 0) {
      input.log(
        "build",
        `kiln: build-time secrets available to RUN --mount=type=secret,id=NAME (read from /run/secrets/NAME): ${secretNames.join(", ")}`,
      );
    }
    const matcher = await loadDockerignore(input.srcDir);
    const packed = await (this.opts.packDir ?? defaultPackDir)(input.srcDir, {
      ignore: (relPath, info) => !ALWAYS_SENT.has(relPath) && matcher(relPath, info),
    });
    let context = packed;
    let dockerfile = "Dockerfile";
    if (directive !== null) {
      dockerfile = `${await freeContextDir(input.srcDir)}/Dockerfile`;
      context = withFilesInFront({ [dockerfile]: text }, packed);
      input.log("build", `kiln: ignoring "# ${directive}" (no registry to pull it from); using the engine's built-in Dockerfile frontend`);
    }
    await this.opts.runtime.buildImage({
      context,
      dockerfile,
      tag: input.tag,
      labels: input.labels,
      secrets: input.secrets,
      signal: input.signal,
      onLine: (line) => input.log("build", line),
    });
    const port = exposedPort(text);
    const plan = `detected: the app's own Dockerfile → build it${port === undefined ? "" : ` → its EXPOSE ${port}`}`;
    return port === undefined ? { image: input.tag, plan } : { image: input.tag, port, plan };
  }
}

/**
 * The Dockerfile without its `# syntax=` parser directive (directives are the `# key=value`
 * lines at the very top). `directive` is the removed text, or null when there was none.
 */
export function stripSyntaxDirective(dockerfile: string): { text: string; directive: string | null } {
  const lines = dockerfile.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!.replace(/\r$/, ""));
    if (!m) break; // directives end at the first line that is not one
    if (m[1]!.toLowerCase() === "syntax") {
      lines.splice(i, 1);
      return { text: lines.join("\n"), directive: `syntax=${m[2]}` };
    }
  }
  return { text: dockerfile, directive: null };
}

/** The first numeric port EXPOSEd by the last stage, if any. */
export function exposedPort(dockerfile: string): number | undefined {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  let port: number | undefined;
  for (const line of instructions) {
    const [word = "", ...args] = line.split(/\s+/);
    const instr = word.toUpperCase();
    if (instr === "FROM") port = undefined;
    if (instr !== "EXPOSE" || port !== undefined) continue;
    for (const arg of args) {
      const m = /^(\d+)(?:-\d+)?(?:\/(?:tcp|udp))?$/i.exec(arg);
      if (m && Number(m[1]) > 0 && Number(m[1]) < 65536) {
        port = Number(m[1]);
        break;
      }
    }
  }
  return port;
}

/**
 * What Kiln's zero-config builder decided for a source tree: the AppPlan. A provider
 * (providers/*.ts) makes it from what it reads in the tree; dockerfile-gen.ts turns it into a
 * Dockerfile; plan-line.ts into the one line a person reads. Pure types.
 */

export type AppKind = "node" | "static" | "procfile" | "python" | "go";
export type PackageManager = "npm" | "pnpm" | "yarn" | "bun";
export type PlanChoice = "kind" | "packageManager" | "install" | "build" | "start" | "port" | "runtime" | "serve";

/** The port apps are told to listen on (ENV PORT in the image) unless their env says otherwise. */
export const DEFAULT_PORT = 3000;

/**
 * The runtime an image stage needs. The builder's `baseImage` turns it into an image: the
 * official one when it is local or a registry answers, else one assembled from the host.
 */
export type RuntimeName = "node" | "bun" | "python" | "go" | "static";
export interface RuntimeRequest {
  name: RuntimeName;
  /** A version or range as the app wrote it (engines.node, .nvmrc, .python-version, go.mod's go line). */
  version?: string;
  /** Where the version came from, for the log ("engines.node in package.json"). */
  versionFrom?: string;
}

/** An image for a RuntimeRequest, and what the log should warn about it (a version that does not match). */
export interface ResolvedImage {
  ref: string;
  warnings?: string[];
}

/** How a static site is served (kind "static"): the directory and whether unknown paths fall back to index.html. */
export interface StaticServe {
  /** Relative to the app root; "." for the root itself. */
  dir: string;
  /** A single-page app: a path that names no file answers with /index.html. */
  spa: boolean;
  /**
   * When the output folder is not known for sure: the first of [dir, ...alternatives] that the
   * build made, holding an index.html, is served.
   */
  alternatives?: string[];
}

export interface AppPlan {
  kind: AppKind;
  /** What was recognised, for people: "Vite SPA", "Next.js app", "NestJS app". Default: by kind. */
  framework?: string;
  packageManager?: PackageManager;
  /** Yarn 2+ ("berry"): other install flags and cache than yarn 1. */
  yarnBerry?: boolean;
  /**
   * Paths copied before the install so its layer is reused until they change (directories end
   * in "/"). Empty: the install needs the whole tree, which is copied first.
   */
  manifests: string[];
  installCmd?: string;
  buildCmd?: string;
  /** Drops dev-only dependencies after a build. */
  pruneCmd?: string;
  /** The command the container runs (kind "static": empty, the static server's own). */
  startCmd: string;
  /** kind "static": what is served and how. */
  serve?: StaticServe;
  port: number;
  /** The image the install and build run in, and the one the app runs in. */
  buildImage: RuntimeRequest;
  runImage: RuntimeRequest;
  /** Extra env of the final image (HOST=0.0.0.0, PYTHONUNBUFFERED…), beside PORT. */
  runEnv?: Record<string, string>;
  /** Extra env of the install and build steps (a framework's switch, e.g. SvelteKit adapter-auto → node). */
  buildEnv?: Record<string, string>;
  /** Download and compile caches mounted into the install and build steps, beside the package manager's (pip's, Go's). */
  caches?: { id: string; target: string }[];
  /** Why each choice was made, for the build log. */
  reasons: Partial<Record<PlanChoice, string>>;
  warnings: string[];
}

/** The kind as people say it, when no framework was recognised. */
export function kindLabel(plan: Pick<AppPlan, "kind" | "framework">): string {
  if (plan.framework) return plan.framework;
  switch (plan.kind) {
    case "node":
      return "Node.js app";
    case "static":
      return "static site";
    case "procfile":
      return "Procfile app";
    case "python":
      return "Python app";
    case "go":
      return "Go app";
  }
}

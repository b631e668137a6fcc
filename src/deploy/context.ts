/** What the pipeline's steps share: inputs, the outside systems, and the outputs steps fill in. */
import type { Config } from "../config.ts";
import type { AppInstance, Build, BuilderName, Deployment } from "../core/deployment.ts";
import type { AppSettings } from "../core/settings.ts";
import type { AppRollout } from "./app-rollout.ts";
import type { LogSink } from "../core/logs.ts";
import type { ImageBuilder } from "../core/ports/builder.ts";
import type { RouteTable } from "../core/ports/routes.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { FetchRequest, SourceFetcher } from "../core/ports/source.ts";
import type { Secret } from "../core/secret.ts";

export interface PipelineDeps {
  config: Config;
  /** This Kiln's id, put on everything it creates (see naming.ts). */
  instanceId: string;
  runtime: ContainerRuntime;
  routes: RouteTable;
  fetchers: { git: SourceFetcher; tarball: SourceFetcher };
  builders: ImageBuilder[];
  /** What runs a release: containers (rollout.ts) or a Swarm service (swarm-rollout.ts). */
  rollout: AppRollout;
}

export interface PipelineContext {
  deployment: Deployment;
  build: Build;
  /** Where to fetch from, secrets resolved. */
  source: FetchRequest;
  /** The app's runtime environment (values may be secret). */
  env: Record<string, Secret>;
  /** The variables the build needs (BuildKit secrets). */
  buildEnv: Record<string, Secret>;
  settings: AppSettings;
  /** Scratch directory of this build; removed when the pipeline ends. */
  workDir: string;
  /** The app's source: the fetched tree, or its one top-level folder when it has nothing else (tar -czf app.tgz app/). */
  srcDir: string;
  /** The fetched tree as it came (settings.rootDir is looked up here first). */
  fetchedDir?: string;
  signal: AbortSignal;
  log: LogSink;
  // filled in by the steps
  commit?: string;
  builder?: BuilderName;
  image?: string;
  /** The port the builder says the image listens on. */
  buildPort?: number | null;
  /** The builder's decision in one line. */
  plan?: string;
  /** The new release's containers, once started. */
  instances?: AppInstance[];
}

export interface Step {
  name: import("../core/deployment.ts").StepName;
  /** What the step says when it starts, e.g. "fetching source". */
  title: string;
  run(ctx: PipelineContext, deps: PipelineDeps): Promise<void>;
}

/**
 * Image builders. The chooser (src/deploy/builder-choice.ts) picks one per build:
 * railpack when installed, the app's Dockerfile when present, else Kiln's zero-config builder.
 */
import type { BuilderName } from "../deployment.ts";
import type { LogSink } from "../logs.ts";
import type { Secret } from "../secret.ts";

export interface BuildInput {
  deploymentId: string;
  buildId: string;
  srcDir: string;
  /** Image reference to produce, e.g. kiln/app-<name>:<buildId>. */
  tag: string;
  labels: Record<string, string>;
  /** Build-time secrets (e.g. env the app needs while building); never in argv or image history. */
  secrets: Record<string, Secret>;
  /** The app's settings.buildCommand: run instead of the detected build step. */
  buildCommand?: string;
  signal?: AbortSignal;
  log: LogSink;
}

export interface BuildOutput {
  image: string;
  /** The port the app listens on, when the builder knows it (else PORT=3000 is injected). */
  port?: number;
  /** The builder's decision in one line ("detected: Node.js app (npm, …) → `npm ci` → start `node server.js` on port 3000"). */
  plan?: string;
}

export interface ImageBuilder {
  readonly name: BuilderName;
  /** Whether this builder applies to this source tree on this machine. */
  applies(srcDir: string): Promise<boolean>;
  build(input: BuildInput): Promise<BuildOutput>;
}

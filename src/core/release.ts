/**
 * A release: what an app served at one point — one build's image with one env and one set of
 * settings. Every successful deploy, env change, settings change, scale and rollback makes one;
 * a rollback serves an older release's image with its env and settings again, without a build.
 * The env snapshot's values live in the secret store (encrypted), under `releaseEnvKey`.
 */
import type { AppSettings } from "./settings.ts";

/** What made the release. */
export type ReleaseTrigger = "deploy" | "redeploy" | "env" | "settings" | "rollback";
/** Who asked: the API directly, the CLI, the dashboard, or a webhook (the X-Kiln-Via header). */
export type ReleaseVia = "api" | "cli" | "dashboard" | "webhook";
export const RELEASE_VIAS: readonly ReleaseVia[] = ["api", "cli", "dashboard", "webhook"];

export interface Release {
  id: string;
  deploymentId: string;
  /** 1, 2, 3… per deployment. */
  number: number;
  buildId: string;
  image: string;
  /** The port the build's image listens on (the builder's guess), if it said. */
  buildPort: number | null;
  envKeys: string[];
  settings: AppSettings;
  trigger: ReleaseTrigger;
  via: ReleaseVia;
  /** For a rollback: the number of the release it went back to. */
  rollbackOf: number | null;
  /** What changed, in words (e.g. "env: set API_URL", "settings: replicas"). */
  description: string;
  createdAt: number;
}

export const releaseEnvKey = (deploymentId: string, releaseId: string) => `deployment/${deploymentId}/release/${releaseId}/env`;

import { defineLifecycle } from "./lifecycle.ts";
import type { AppSettings } from "./settings.ts";
import type { PreviewInfo } from "./hooks.ts";

/** Where a deployment's source comes from. The token of a private repo lives in the secret store, not here. */
export type SourceSpec =
  | { kind: "git"; url: string; ref?: string; hasToken: boolean }
  | { kind: "tarball"; uploadId: string; filename?: string };

export type DeploymentStatus = "queued" | "building" | "deploying" | "running" | "crashlooping" | "failed" | "stopped";

export interface Deployment {
  id: string;
  name: string;
  source: SourceSpec;
  /** Environment for the app's container. Values may be secrets: the API shows keys only. */
  envKeys: string[];
  /** User-named Docker networks the app's container joins besides Kiln's isolated one (apps that must talk). */
  networks: string[];
  /** How Kiln builds, runs, checks and scales it (src/core/settings.ts). */
  settings: AppSettings;
  status: DeploymentStatus;
  /** The build in progress, or the one serving. */
  currentBuildId: string | null;
  /** The release serving (src/core/release.ts); null before the first deploy succeeded. */
  currentReleaseId: string | null;
  /** Set for a failure: what went wrong, with the last log lines where useful. */
  failureReason: string | null;
  /** The containers serving, one per replica, in replica order. */
  instances: AppInstance[];
  /** Set when this deployment is a preview of another (a pull request, or made through the API). */
  preview: PreviewInfo | null;
  createdAt: number;
  updatedAt: number;
}

/** One replica of a running app: its container, and where it is published on loopback. */
export interface AppInstance {
  containerId: string;
  /** 127.0.0.1:<port>; null until the engine published it. */
  upstream: string | null;
}

/** The upstreams Caddy balances over. */
export const upstreamsOf = (d: Pick<Deployment, "instances">): string[] => d.instances.flatMap((i) => (i.upstream ? [i.upstream] : []));

/**
 * Deployment status says what the app is doing. A redeploy of a running app stays `running` (the
 * old container serves until the new one takes over; the build row shows the progress); a first
 * deploy, or a redeploy of a failed or stopped app, goes queued → building → deploying → running.
 */
export const deploymentLifecycle = defineLifecycle<DeploymentStatus>("deployment", {
  // → running from queued/building: the build ended (interrupted at boot, or failed) while the
  // previous container still serves.
  queued: ["building", "running", "failed", "stopped"],
  building: ["deploying", "running", "failed", "stopped"],
  deploying: ["running", "failed", "stopped"],
  // → running: a redeploy queued, a failed redeploy recorded, the new container swapped in, a dead
  // container started again; → crashlooping: it kept dying (reconcile/restart-policy.ts).
  running: ["running", "crashlooping", "failed", "stopped"],
  // Kiln keeps restarting it with backoff: → crashlooping records each further exit; → running: it
  // stayed up again, or a redeploy succeeded; → queued: a redeploy; → failed: its build or image is
  // gone (nothing left to start).
  crashlooping: ["crashlooping", "running", "queued", "failed", "stopped"],
  // → building: the app crashed while its redeploy waited in the queue; → running: a redeploy
  // whose app crashed meanwhile succeeded; → failed: a failed redeploy of a crashed app.
  failed: ["queued", "building", "running", "failed", "stopped"],
  stopped: ["queued", "stopped"],
});

export type BuildStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type BuilderName = "railpack" | "dockerfile" | "kiln";
export type StepName = "source" | "build" | "run" | "healthy" | "route";

export interface StepTiming {
  name: StepName;
  startedAt: number;
  durationMs: number | null;
  ok: boolean | null;
}

export interface Build {
  id: string;
  deploymentId: string;
  number: number; // 1, 2, 3… per deployment
  status: BuildStatus;
  builder: BuilderName | null;
  image: string | null;
  /** The port the builder says the image listens on, if it knows (or where the app was found listening). */
  port: number | null;
  /** The builder's decision in one line, once it is made. */
  plan: string | null;
  commit: string | null;
  steps: StepTiming[];
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export const buildLifecycle = defineLifecycle<BuildStatus>("build", {
  queued: ["running", "failed", "cancelled"], // failed: Kiln restarted before it ran
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  cancelled: [],
});

import { conflict } from "./errors.ts";

/** Where a deployment's source comes from. The token of a private repo lives in the secret store, not here. */
export type SourceSpec =
  | { kind: "git"; url: string; ref?: string; hasToken: boolean }
  | { kind: "tarball"; uploadId: string; filename?: string };

export type DeploymentStatus = "queued" | "building" | "deploying" | "running" | "failed" | "stopped";

export interface Deployment {
  id: string;
  name: string;
  source: SourceSpec;
  /** Environment for the app's container. Values may be secrets: the API shows keys only. */
  envKeys: string[];
  status: DeploymentStatus;
  currentBuildId: string | null;
  /** Set for a failure: what went wrong, with the last log lines where useful. */
  failureReason: string | null;
  containerId: string | null;
  /** 127.0.0.1:<port> where the app's container is published. */
  upstream: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Allowed status moves. Anything else is a 409. */
const deploymentMoves: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  queued: ["building", "failed", "stopped"],
  building: ["deploying", "failed", "stopped"],
  deploying: ["running", "failed", "stopped"],
  running: ["queued", "failed", "stopped", "running"],
  failed: ["queued", "stopped", "running", "failed"],
  stopped: ["queued", "stopped"],
};

export function canMoveDeployment(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return deploymentMoves[from].includes(to);
}

export function assertDeploymentMove(from: DeploymentStatus, to: DeploymentStatus): void {
  if (!canMoveDeployment(from, to)) {
    throw conflict(`deployment cannot go from ${from} to ${to}`);
  }
}

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
  commit: string | null;
  steps: StepTiming[];
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

const buildMoves: Record<BuildStatus, readonly BuildStatus[]> = {
  queued: ["running", "cancelled", "failed"],
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function assertBuildMove(from: BuildStatus, to: BuildStatus): void {
  if (!buildMoves[from].includes(to)) throw conflict(`build cannot go from ${from} to ${to}`);
}

/**
 * The seam between the build runner and what runs a release: the pipeline's `run → healthy → route`
 * steps and the runner's go-live and failure paths call only this. Two implementations:
 * rollout.ts (KILN_ENGINE=docker: containers Kiln runs, health-checks, routes and drains itself) and
 * swarm-rollout.ts (KILN_ENGINE=swarm: one Swarm service per app, updated start-first by Swarm).
 * main.ts picks one; nothing else knows which.
 */
import type { AppInstance } from "../core/deployment.ts";
import type { LogSink } from "../core/logs.ts";
import type { ReleaseTarget } from "./rollout.ts";

export interface AppRollout {
  /** Start the release (throws StepError, cleaning up what it made). */
  start(t: ReleaseTarget, signal: AbortSignal, log: LogSink): Promise<AppInstance[]>;
  /** Wait until the release passes its health check; the instances that serve, and the port the app was found on. */
  waitHealthy(t: ReleaseTarget, instances: AppInstance[], signal: AbortSignal, log: LogSink): Promise<{ instances: AppInstance[]; port?: number }>;
  /** Route the app's URLs to the instances. */
  publish(t: ReleaseTarget, instances: AppInstance[]): Promise<void>;
  /** Retire instances the new release replaced (no new requests; those in flight finish). */
  drain(deploymentId: string, old: AppInstance[], timeoutMs: number, log: LogSink): Promise<void>;
  /** Remove instances that never served (a failed change), without draining. */
  discard(containerIds: string[]): Promise<void>;
  /** The release serves: follow the instances' output into the deployment's log. */
  follow(deploymentId: string, instances: AppInstance[]): void;
  /** Whether any of these (the previous release's) instances still runs. */
  anyRunning(instances: AppInstance[]): Promise<boolean>;
}

/**
 * What the container engine tells Kiln as it happens: containers starting, dying, running out of
 * memory, changing health, being removed — and the engine itself going away and coming back.
 * Implemented over Docker's event stream (GET /events) by the engine watcher; the desired-state loops
 * (deployments restarted from their current build, dead pool members replaced) subscribe to it, so the
 * claim path can know a member is dead without asking Docker.
 *
 *   const off = events.subscribe((e) => {
 *     if (e.kind === "engine" && e.state === "back") void reconcileEverything();
 *     if (e.kind === "container" && e.action === "die") markDead(e.containerId);
 *   });
 */
import type { Labels } from "./runtime.ts";

export type ContainerAction = "create" | "start" | "die" | "oom" | "kill" | "stop" | "restart" | "destroy" | "health";

export interface ContainerEvent {
  kind: "container";
  action: ContainerAction;
  containerId: string;
  /** The container's labels as the engine reports them with the event (kiln.kind, kiln.deployment, kiln.member…). */
  labels: Labels;
  /** With `die`: the exit code. */
  exitCode?: number;
  /** With `health`: the new health status. */
  health?: "starting" | "healthy" | "unhealthy";
  /** Epoch milliseconds, as the engine stamped it. */
  at: number;
}

/**
 * `lost`: the event stream broke (the engine stopped or restarted); events may have been missed.
 * `back`: the stream is connected again — anything may have changed meanwhile: reconcile in full.
 */
export interface EngineStateEvent {
  kind: "engine";
  state: "lost" | "back";
  at: number;
}

export type EngineEvent = ContainerEvent | EngineStateEvent;

export interface EngineEvents {
  /** Calls `listener` for every event from now on; returns the unsubscribe function. Listeners must be cheap. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
}

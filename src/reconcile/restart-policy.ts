/**
 * When Kiln starts a dead app container again, and when it calls the app crash-looping. Pure:
 * a state value in, a new one out; the caller owns the clock and the timers.
 *
 * - Each exit (or a restart that failed readiness) waits `baseMs` doubling to `maxMs` before the
 *   next start: 1 s, 2 s, 4 s … 5 min.
 * - `maxExits` exits within `windowMs` (5 in 10 min) → crash-looping; the backoff goes on.
 * - An app that stayed up `stableMs` after a start is forgiven: the exit count and the backoff reset.
 *
 *   let s = initialRestartState();
 *   s = recordExit(s, now);            // the container died
 *   const wait = nextDelay(s);         // ms until the next start
 *   if (isCrashLooping(s, now)) …      // status crashlooping, with the next retry time
 */
import type { AppSettings } from "../core/settings.ts";

export interface RestartPolicy {
  baseMs: number;
  maxMs: number;
  windowMs: number;
  maxExits: number;
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseMs: 1000, maxMs: 5 * 60_000, windowMs: 10 * 60_000, maxExits: 5, stableMs: 60_000 };

export interface RestartState {
  /** Exits (epoch ms) since the app last stayed up `stableMs`, oldest first, within the window. */
  exits: number[];
  /** Restarts since the app last stayed up: the backoff's exponent. */
  attempts: number;
}

export function initialRestartState(): RestartState {
  return { exits: [], attempts: 0 };
}

export function recordExit(s: RestartState, at: number, p: RestartPolicy = DEFAULT_RESTART_POLICY): RestartState {
  return { ...s, exits: [...s.exits.filter((t) => t > at - p.windowMs), at] };
}

/** A restart is about to be made: the next one waits twice as long. */
export function recordRestart(s: RestartState): RestartState {
  return { ...s, attempts: s.attempts + 1 };
}

/** Milliseconds to wait before the next start. */
export function nextDelay(s: RestartState, p: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  return Math.min(p.baseMs * 2 ** Math.min(s.attempts, 30), p.maxMs);
}

export function isCrashLooping(s: RestartState, now: number, p: RestartPolicy = DEFAULT_RESTART_POLICY): boolean {
  return s.exits.filter((t) => t > now - p.windowMs).length >= p.maxExits;
}

/** The app has been up since `upSince`: past `stableMs`, everything is forgiven. */
export function recordUp(s: RestartState, upSince: number, now: number, p: RestartPolicy = DEFAULT_RESTART_POLICY): RestartState {
  return now - upSince >= p.stableMs ? initialRestartState() : s;
}

/**
 * Whether the app's own restart policy (settings.restartPolicy) starts a container again after this
 * exit: `always`; `on-failure` unless it exited 0; `never` only when it vanished without an exit (removed,
 * or lost with the engine: that is Kiln's to repair, not the app's choice).
 */
export function restartAllowed(s: Pick<AppSettings, "restartPolicy">, exitCode: number | undefined): boolean {
  if (s.restartPolicy === "never") return exitCode === undefined;
  if (s.restartPolicy === "on-failure") return exitCode !== 0;
  return true;
}

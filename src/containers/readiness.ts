/**
 * Waiting until a container Kiln just started is ready: one loop for deployments and pool members.
 * The probe says what ready means —
 *   http:        any HTTP answer on its published address (Docker's port proxy accepts TCP even when
 *                nothing listens inside, so a connect proves nothing; any status does); with a
 *                `path`, a GET of that path answering the expected status (else any 2xx or 3xx);
 *   healthcheck: Docker's healthcheck reports healthy;
 *   running:     the container runs.
 * It resolves when ready and throws a NotReady (`exited` with the exit code and the last output lines,
 * `unhealthy`, or `timeout`) naming the container as the caller calls it; the caller adds its hint.
 * The signal cancels the wait.
 *
 *   await waitUntilReady({ runtime, containerId, probe: { kind: "http", address }, timeoutMs, signal, name: "the app's container" });
 */
import { KilnError } from "../core/errors.ts";
import type { ContainerInfo, ContainerRuntime } from "../core/ports/runtime.ts";

export interface HttpProbe {
  kind: "http";
  address: string;
  /** The app's health check: GET this path… */
  path?: string;
  /** …answering this status (null/absent: any 2xx or 3xx). */
  expectStatus?: number | null;
  /** One request's timeout; default 2 s. */
  requestTimeoutMs?: number;
}

export type Probe = HttpProbe | { kind: "healthcheck" } | { kind: "running" };

export type NotReadyReason = "exited" | "unhealthy" | "timeout";

export class NotReady extends KilnError {
  constructor(
    readonly reason: NotReadyReason,
    message: string,
  ) {
    super("unavailable", message);
    this.name = "NotReady";
  }
}

export interface ReadinessOptions {
  runtime: Pick<ContainerRuntime, "inspectContainer" | "tailLogs">;
  containerId: string;
  probe: Probe;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What to call the container in errors, e.g. "the app's container". */
  name: string;
  /** Pause between probes; default 50 ms. */
  pollMs?: number;
}

/** An HTTP probe asks Docker how the container is only every this many polls (it is the costlier call). */
const HTTP_POLLS_PER_INSPECT = 10;
const TAIL_LINES = 20;

export async function waitUntilReady(o: ReadinessOptions): Promise<void> {
  const pollMs = o.pollMs ?? 50;
  const deadline = Date.now() + o.timeoutMs;
  let last = "";
  for (let poll = 1; ; poll++) {
    o.signal?.throwIfAborted();
    if (o.probe.kind === "http") {
      const answer = await askHttp(o.probe);
      if (answer.ok) return;
      last = answer.said;
    }
    if (o.probe.kind !== "http" || poll % HTTP_POLLS_PER_INSPECT === 0) {
      const info = await o.runtime.inspectContainer(o.containerId);
      if (ended(info)) throw await exitedError(o, info);
      if (o.probe.kind === "healthcheck" && info!.health === "healthy") return;
      if (o.probe.kind === "running" && info!.running) return;
      if (o.probe.kind === "healthcheck" && info!.health === "unhealthy") throw new NotReady("unhealthy", `${o.name} failed its healthcheck`);
    }
    if (Date.now() > deadline) {
      const lastSaid = last && o.probe.kind === "http" && o.probe.path ? ` (last answer: ${last})` : "";
      throw new NotReady("timeout", `${o.name} ${notYet(o.probe)} within ${Math.round(o.timeoutMs / 1000)} s${lastSaid}`);
    }
    await Bun.sleep(pollMs);
  }
}

/** Gone, stopped, or crashed and restarted by Docker (on-failure): it will not become ready as it is. */
function ended(info: ContainerInfo | null): boolean {
  return !info || (!info.running && info.status !== "created") || info.status === "restarting" || info.restartCount > 0;
}

function notYet(p: Probe): string {
  if (p.kind === "http" && p.path) return `did not pass its health check (GET ${p.path} answering ${p.expectStatus ?? "2xx or 3xx"})`;
  return p.kind === "http" ? "did not accept HTTP connections" : p.kind === "healthcheck" ? "was not healthy" : "was not running";
}

function before(p: Probe): string {
  return p.kind === "http" ? "before accepting connections" : p.kind === "healthcheck" ? "before its healthcheck passed" : "before running";
}

async function exitedError(o: ReadinessOptions, info: ContainerInfo | null): Promise<NotReady> {
  const exit = await lastExit(o.runtime, o.containerId, info);
  const tail = info ? await o.runtime.tailLogs(o.containerId, TAIL_LINES).catch(() => []) : [];
  return new NotReady("exited", `${o.name} ${exit} ${before(o.probe)}${tail.length ? `; last lines:\n${tail.join("\n")}` : ""}`);
}

/**
 * How the container ended, e.g. "exited with code 3". The engine shows the exit code only while
 * the container is down or waiting to be restarted: restarting it (the on-failure policy) resets
 * it to 0. So when it is already running again, watch briefly for its next exit.
 */
async function lastExit(runtime: ReadinessOptions["runtime"], id: string, first: ContainerInfo | null): Promise<string> {
  const deadline = Date.now() + 3000;
  let info = first;
  while (info) {
    if (!info.running || info.status === "restarting") return `exited with code ${info.exitCode}`;
    if (Date.now() > deadline) return `crashed and was restarted ${info.restartCount} time(s)`;
    await Bun.sleep(25);
    info = await runtime.inspectContainer(id);
  }
  return "disappeared";
}

/** One probe: ok, or what it got instead (a status, or the error), for the timeout's message. */
async function askHttp(p: HttpProbe): Promise<{ ok: boolean; said: string }> {
  try {
    const res = await fetch(`http://${p.address}${p.path ?? "/"}`, { signal: AbortSignal.timeout(p.requestTimeoutMs ?? 2000), redirect: "manual" });
    await res.body?.cancel();
    if (!p.path) return { ok: true, said: String(res.status) };
    const ok = p.expectStatus ? res.status === p.expectStatus : res.status >= 200 && res.status < 400;
    return { ok, said: `status ${res.status}` };
  } catch (err) {
    return { ok: false, said: err instanceof Error && err.name === "TimeoutError" ? "no answer in time" : "no HTTP answer" };
  }
}

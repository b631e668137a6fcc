/**
 * Keeps running apps running. Kiln is the only one that restarts an app container (its restart
 * policy is "no"): when the engine says one of the containers (replicas) of a `running` or
 * `crashlooping` deployment died or was removed (events), the runtime watcher saw its output end,
 * or a reconcile pass finds it down, it is started again after the backoff of restart-policy.ts —
 * the same container when it still exists, else a new one from the serving release (image, env,
 * settings). Either way, as a deploy does: start → wait until it passes the health check → route
 * (the other replicas serve meanwhile; Caddy retries a dead one's requests on them) → store the
 * container and upstream (the engine may publish a new port) → follow its log (resumed without gap).
 * The app's restart policy (settings.restartPolicy) may say not to: `never`, or `on-failure` after
 * exit code 0. Then the dead replica leaves the route, and with none left the deployment is failed.
 * Repeated exits make the deployment `crashlooping` (exit code, last lines, next retry in its
 * failure reason); restarts go on with backoff, and an app that then stays up is `running` again.
 * On `engine back` (dockerd restarted) a full reconcile pass runs, which brings every app here.
 * One recovery at a time per deployment; deployments with a build in flight are the build's.
 *
 *   const apps = new AppConvergence({ store, runtime, routes, watcher, events, … });
 *   apps.start();  reconciler deps: converge: (d, c) => apps.converge(d, c), busy: (id) => apps.busy(id)
 *   await apps.answering();   // { total, down }: every running deployment asked over HTTP
 */
import { upstreamsOf, type AppInstance, type Deployment } from "../core/deployment.ts";
import type { AppSettings } from "../core/settings.ts";
import { routeFor } from "../deploy/rollout.ts";
import { IllegalMove } from "../core/lifecycle.ts";
import { INSTANCE } from "../core/labels.ts";
import type { EngineEvent, EngineEvents } from "../core/ports/engine-events.ts";
import type { RouteTable } from "../core/ports/routes.ts";
import type { ContainerInfo, ContainerRuntime, ContainerSpec } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import { APP_PORT_LABEL } from "../containers/app-spec.ts";
import { NotReady, waitUntilReady } from "../containers/readiness.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";
import {
  DEFAULT_RESTART_POLICY,
  initialRestartState,
  isCrashLooping,
  nextDelay,
  recordExit,
  recordRestart,
  recordUp,
  restartAllowed,
  type RestartPolicy,
  type RestartState,
} from "./restart-policy.ts";

export interface AppConvergenceDeps {
  store: Store;
  runtime: ContainerRuntime;
  routes: RouteTable;
  watcher: RuntimeWatcher;
  events: EngineEvents;
  instanceId: string;
  /** A build queued or running for the deployment: it will swap a container in itself. */
  building: (deploymentId: string) => boolean;
  /**
   * The spec of a new container for one replica of the serving release (its image, env, settings), on
   * `hostPort` when given (where the replica it replaces answered), or null when its image is gone.
   */
  specFor: (d: Deployment, replica: number, hostPort?: number) => Promise<{ spec: ContainerSpec; settings: AppSettings } | null>;
  /** The engine's refusal of a host port taken meanwhile: the new container then takes another. */
  isPortTaken?: (err: unknown) => boolean;
  readyTimeoutMs: number;
  /** A full reconcile pass (Reconciler.pass), run when the engine is back after a restart. */
  fullPass: () => Promise<void>;
  log: (deploymentId: string, text: string) => void;
  policy?: RestartPolicy;
}

interface Track {
  state: RestartState;
  timer: ReturnType<typeof setTimeout> | null;
  inFlight: Promise<void> | null;
  /** Checks, once a start answered, that the app stayed up (resets the backoff; crashlooping → running). */
  stableTimer: ReturnType<typeof setTimeout> | null;
  /** The port its containers listen on (their label), for a container made again. */
  port?: number;
  lastExitCode?: number;
  nextAt?: number;
  /** A container that stopped while a restart was in progress: looked at when it ends. */
  recheck?: string;
  /** The release the restart state is about: a new release starts with a clean slate. */
  releaseId?: string | null;
  /** The wait after a restart failed for the engine's sake (unreachable…), doubling; not the app's fault. */
  troubleMs?: number;
}

const LIVE = new Set(["running", "crashlooping"]);
const WHERE = "AppConvergence";
const TAIL_LINES = 20;

export class AppConvergence {
  /** Status writes the lifecycle refused (the deployment moved meanwhile): logged and counted. */
  illegalMoves = 0;
  /** Containers Kiln started again, and new containers it made for vanished ones. */
  restarts = 0;
  recreated = 0;
  readonly #tracks = new Map<string, Track>();
  readonly #policy: RestartPolicy;
  #off: (() => void) | null = null;
  #stopped = false;

  constructor(private readonly d: AppConvergenceDeps) {
    this.#policy = d.policy ?? DEFAULT_RESTART_POLICY;
  }

  start(): void {
    this.#stopped = false;
    this.#off ??= this.d.events.subscribe((e) => this.#onEvent(e));
  }

  stop(): void {
    this.#stopped = true;
    this.#off?.();
    this.#off = null;
    for (const t of this.#tracks.values()) {
      if (t.timer) clearTimeout(t.timer);
      if (t.stableTimer) clearTimeout(t.stableTimer);
    }
    this.#tracks.clear();
  }

  /** A recovery is scheduled or under way (the reconciler leaves the deployment's containers alone). */
  busy(deploymentId: string): boolean {
    const t = this.#tracks.get(deploymentId);
    return !!t && (t.timer !== null || t.inFlight !== null);
  }

  /** When the next restart of a deployment is due (epoch ms), if one is scheduled. */
  nextRestartAt(deploymentId: string): number | null {
    const t = this.#tracks.get(deploymentId);
    return t?.timer ? (t.nextAt ?? null) : null;
  }

  /**
   * From a reconcile pass: a running or crashlooping deployment and its current container as the
   * engine lists it (undefined: gone). Down → a restart is scheduled; up → its port is noted, and a
   * crash-looping app that runs is watched for staying up.
   */
  converge(d: Deployment, listed: ReadonlyMap<string, ContainerInfo>): void {
    if (this.#stopped || !LIVE.has(d.status)) return;
    const t = this.#track(d.id);
    this.#sameRelease(t, d);
    let down: { id: string; c: ContainerInfo | undefined } | null = null;
    for (const inst of d.instances) {
      const c = listed.get(inst.containerId);
      if (c) this.#notePort(t, c.labels);
      if (c?.running) {
        // Its output may have stopped being followed while the engine was away.
        if (!this.busy(d.id) && !this.d.watcher.watching(d.id, c.id)) this.d.watcher.watch(d.id, c.id, 1);
      } else down ??= { id: inst.containerId, c };
    }
    if (!down && d.instances.length > 0) {
      if (d.status === "crashlooping" && !t.stableTimer && !this.busy(d.id)) this.#watchStable(d.id, d.instances[0]!.containerId, Date.now());
      return;
    }
    if (this.busy(d.id)) return;
    void this.#schedule(d.id, down?.id ?? null, down?.c ? down.c.exitCode : undefined).catch((err) => this.#failed(d.id, err));
  }

  /** From the runtime watcher: a followed container's output ended and it no longer runs. */
  noticeExit(deploymentId: string, containerId: string): void {
    void this.#noticeExit(deploymentId, containerId, undefined, false).catch((err) => this.#failed(deploymentId, err));
  }

  /** Every running deployment asked over HTTP at its upstream: how many, and the names of those that do not answer. */
  async answering(timeoutMs = 2000): Promise<{ total: number; down: string[] }> {
    const running = (await this.d.store.deployments.list()).filter((d) => d.status === "running");
    const down: string[] = [];
    await Promise.all(
      running.map(async (d) => {
        const ups = upstreamsOf(d);
        const ok = ups.length > 0 && (await Promise.all(ups.map((u) => answers(u, timeoutMs)))).every(Boolean);
        if (!ok) down.push(d.name);
      }),
    );
    return { total: running.length, down: down.sort() };
  }

  #onEvent(e: EngineEvent): void {
    if (this.#stopped) return;
    if (e.kind === "engine") {
      if (e.state !== "back") return;
      // Restarts put off while the engine was away are due now: the full pass schedules them afresh.
      for (const t of this.#tracks.values()) {
        if (t.timer && t.troubleMs !== undefined) {
          clearTimeout(t.timer);
          t.timer = null;
        }
        t.troubleMs = undefined;
      }
      void this.d.fullPass().catch((err) => console.error("reconcile after the engine came back:", err));
      return;
    }
    const id = e.labels["kiln.deployment"];
    if (!id || e.labels["kiln.kind"] !== "app" || e.labels[INSTANCE] !== this.d.instanceId) return;
    this.#notePort(this.#track(id), e.labels);
    if (e.action === "die" || e.action === "destroy") {
      void this.#noticeExit(id, e.containerId, e.exitCode, e.action === "die").catch((err) => this.#failed(id, err));
    }
  }

  /**
   * A container stopped. Only the engine's `die` counts as an exit (one per death, whoever noticed
   * first); during a restart in progress it is looked at again when that ends (the restart counts
   * its own failures).
   */
  async #noticeExit(id: string, containerId: string, exitCode: number | undefined, died: boolean): Promise<void> {
    const t = this.#track(id);
    if (t.inFlight) {
      t.recheck = containerId;
      return;
    }
    if (this.d.building(id)) return;
    const d = await this.d.store.deployments.get(id);
    if (!d || !LIVE.has(d.status) || !d.instances.some((i) => i.containerId === containerId) || t.inFlight) return;
    this.#sameRelease(t, d);
    if (d.settings.restartPolicy !== "always") {
      const code = exitCode ?? (await this.d.runtime.inspectContainer(containerId).catch(() => null))?.exitCode;
      if (!restartAllowed(d.settings, code)) return this.#leaveDown(d, containerId, code);
    }
    if (died) t.state = recordExit(t.state, Date.now(), this.#policy);
    await this.#schedule(id, containerId, exitCode);
  }

  /** Set the timer (unless set), and say crashlooping when it is one. */
  async #schedule(id: string, containerId: string | null, exitCode: number | undefined, waitMs?: number): Promise<void> {
    const t = this.#track(id);
    if (t.inFlight || this.#stopped) return;
    if (exitCode !== undefined) t.lastExitCode = exitCode;
    const first = !t.timer;
    if (first) {
      if (t.stableTimer) clearTimeout(t.stableTimer);
      t.stableTimer = null;
      const delay = waitMs ?? nextDelay(t.state, this.#policy);
      t.nextAt = Date.now() + delay;
      t.timer = setTimeout(() => {
        t.timer = null;
        t.inFlight = this.#recover(id)
          .catch((err) => this.#failed(id, err))
          .finally(() => {
            t.inFlight = null;
            const again = t.recheck;
            t.recheck = undefined;
            if (again) void this.#noticeExit(id, again, undefined, false).catch((err) => this.#failed(id, err));
          });
      }, delay);
    }
    const d = await this.d.store.deployments.get(id);
    if (!d || !LIVE.has(d.status)) return;
    const delay = Math.max(0, (t.nextAt ?? Date.now()) - Date.now());
    if (isCrashLooping(t.state, Date.now(), this.#policy)) {
      const lines = containerId ? await this.d.runtime.tailLogs(containerId, TAIL_LINES).catch(() => []) : [];
      const reason = crashLoopReason(t, this.#policy, lines);
      await this.#write(id, { status: "crashlooping", failureReason: reason });
      this.d.log(id, `crash loop: ${reason.split("\n")[0]}`);
    } else if (first) {
      const how = t.lastExitCode !== undefined ? `exited with code ${t.lastExitCode}` : containerId ? "is not running" : "is gone";
      this.d.log(id, `the app's container ${how}; starting it again in ${seconds(delay)}`);
    }
  }

  /**
   * The restart policy says not to start it again: the container leaves the route (the other
   * replicas serve); with none left the deployment is failed, with why.
   */
  async #leaveDown(d: Deployment, containerId: string, exitCode: number | undefined): Promise<void> {
    const rest = d.instances.filter((i) => i.containerId !== containerId);
    const code = exitCode === undefined ? "stopped" : `exited with code ${exitCode}`;
    if (rest.length === 0) {
      await this.d.routes.remove(d.id);
      const failureReason = `the app ${code}; its restart policy (${d.settings.restartPolicy}) says not to start it again`;
      await this.#write(d.id, { status: "failed", failureReason, instances: [] });
      this.d.log(d.id, failureReason);
      return;
    }
    await this.d.routes.upsert(routeFor(d, rest, d.settings));
    await this.#write(d.id, { status: d.status, instances: rest });
    this.d.log(d.id, `a replica ${code}; its restart policy (${d.settings.restartPolicy}) says not to start it again: ${rest.length} left serving`);
  }

  /**
   * One restart pass: every replica down is started again — the same container if it still exists,
   * else a new one from the serving release. With no replica at all, the release's are made anew.
   */
  async #recover(id: string): Promise<void> {
    const t = this.#track(id);
    const d = await this.d.store.deployments.get(id);
    if (!d) this.#tracks.delete(id);
    if (!d || !LIVE.has(d.status) || this.d.building(id) || this.#stopped) return;
    const instances: AppInstance[] = [...d.instances];
    const wanted = instances.length > 0 ? instances.length : Math.max(1, d.settings.replicas);
    let settings: AppSettings = d.settings;
    const recovered: string[] = [];
    for (let replica = 0; replica < wanted; replica++) {
      const inst = instances[replica];
      const existing = inst ? await this.d.runtime.inspectContainer(inst.containerId) : null;
      if (existing?.running && existing.published) {
        instances[replica] = { containerId: existing.id, upstream: existing.published };
        continue;
      }
      t.state = recordRestart(t.state);
      let containerId: string;
      let fresh = false;
      if (existing) {
        await this.d.runtime.startContainer(existing.id);
        containerId = existing.id;
        this.restarts++;
      } else {
        let made = await this.d.specFor(d, replica, portOf(inst?.upstream));
        if (!made) {
          const failureReason = "the app's container is gone and its release's image too: nothing to start again";
          await this.#write(id, { status: "failed", failureReason });
          this.d.log(id, `${failureReason}; redeploy it`);
          return;
        }
        settings = made.settings;
        const madeAt = Date.now();
        containerId = await this.d.runtime.createContainer(made.spec);
        fresh = true;
        try {
          await this.d.runtime.startContainer(containerId);
        } catch (err) {
          await this.d.runtime.removeContainer(containerId).catch(() => {});
          // Its old host port was taken meanwhile: another one (the route then changes).
          if (!made.spec.hostPort || !this.d.isPortTaken?.(err)) throw err;
          made = await this.d.specFor(d, replica);
          if (!made) throw err;
          containerId = await this.d.runtime.createContainer(made.spec);
          try {
            await this.d.runtime.startContainer(containerId);
          } catch (again) {
            await this.d.runtime.removeContainer(containerId).catch(() => {});
            throw again;
          }
        }
        // Where it is published (the old replica's port when it was free): the deployment's from now on.
        instances[replica] = { containerId, upstream: (await this.d.runtime.inspectContainer(containerId))?.published ?? null };
        // The old one is gone: this one is the deployment's from now on, even if it fails to answer.
        await this.#write(id, { status: d.status, instances: [...instances] });
        if (inst) this.d.watcher.forget(inst.containerId);
        this.d.watcher.watch(id, containerId, Math.floor(madeAt / 1000) - 1);
        this.recreated++;
      }
      if (!fresh) this.d.watcher.watch(id, containerId, 1);
      t.troubleMs = undefined;
      const info = await this.d.runtime.inspectContainer(containerId);
      const upstream = info?.published ?? null;
      try {
        if (!upstream) throw new NotReady("exited", "the app's container is not running (no published port)");
        const h = settings.healthcheck;
        await waitUntilReady({
          runtime: this.d.runtime,
          containerId,
          probe: { kind: "http", address: upstream, ...(h ? { path: h.path, expectStatus: h.expectStatus, requestTimeoutMs: h.timeoutMs } : {}) },
          timeoutMs: h ? h.startPeriodMs : this.d.readyTimeoutMs,
          name: wanted > 1 ? `replica ${replica + 1}'s container` : "the app's container",
        });
      } catch (err) {
        if (!(err instanceof NotReady)) throw err;
        t.state = recordExit(t.state, Date.now(), this.#policy);
        this.d.log(id, `restart failed: ${err.message.split("\n")[0]}`);
        t.inFlight = null;
        t.recheck = undefined;
        const after = await this.d.runtime.inspectContainer(containerId).catch(() => null);
        await this.#schedule(id, containerId, after?.exitCode);
        return;
      }
      instances[replica] = { containerId, upstream };
      recovered.push(`${fresh ? "made again from the serving release" : "started again"} and answers on ${upstream}`);
    }
    const now = await this.d.store.deployments.get(id);
    if (!now || !LIVE.has(now.status)) return;
    // A replica restarted where it answered before changes no route: no Caddy reload while the
    // others serve (a reload fails the requests Caddy is retrying on them at that moment).
    if (upstreamsOf(d).join(",") !== upstreamsOf({ instances }).join(",")) await this.d.routes.upsert(routeFor(now, instances, now.settings));
    await this.#write(id, { status: now.status, instances });
    for (const what of recovered) this.d.log(id, `the app's container ${what}`);
    if (upstreamsOf({ instances }).length) this.#watchStable(id, instances[0]!.containerId, Date.now());
  }

  /** After `stableMs` up: the backoff resets, and a crash-looping deployment is running again. */
  #watchStable(id: string, containerId: string, upSince: number): void {
    const t = this.#track(id);
    if (t.stableTimer) clearTimeout(t.stableTimer);
    t.stableTimer = setTimeout(() => {
      t.stableTimer = null;
      void (async () => {
        const d = await this.d.store.deployments.get(id);
        if (!d || !LIVE.has(d.status)) return;
        const infos = await Promise.all(d.instances.map((i) => this.d.runtime.inspectContainer(i.containerId)));
        if (infos.length === 0 || infos.some((info) => !info?.running)) return;
        t.state = recordUp(t.state, upSince, Date.now(), this.#policy);
        if (d.status === "crashlooping") {
          await this.#write(id, { status: "running", failureReason: null });
          this.d.log(id, `the app stayed up ${seconds(this.#policy.stableMs)}: running again`);
        }
      })().catch((err) => this.#failed(id, err));
    }, this.#policy.stableMs);
    t.stableTimer.unref?.();
  }

  async #write(id: string, patch: Partial<Deployment>): Promise<void> {
    await this.d.store.deployments.update(id, patch, WHERE);
  }

  #failed(id: string, err: unknown): void {
    if (err instanceof IllegalMove) {
      this.illegalMoves++;
      this.d.log(id, `convergence: ${err.message}`);
      return;
    }
    // The engine is unreachable, or the start failed: try again after the backoff (engine back → a full pass too).
    this.d.log(id, `could not start the app again: ${err instanceof Error ? err.message : String(err)}`);
    const t = this.#tracks.get(id);
    if (t && !this.#stopped) {
      t.inFlight = null;
      t.troubleMs = Math.min((t.troubleMs ?? 500) * 2, 30_000);
      void this.#schedule(id, null, undefined, t.troubleMs).catch(() => {});
    }
  }

  #track(id: string): Track {
    let t = this.#tracks.get(id);
    if (!t) this.#tracks.set(id, (t = { state: initialRestartState(), timer: null, inFlight: null, stableTimer: null }));
    return t;
  }

  /** A new release (not a container this made again) starts with no exits held against it. */
  #sameRelease(t: Track, d: Deployment): void {
    if (t.releaseId !== undefined && t.releaseId !== d.currentReleaseId) t.state = initialRestartState();
    t.releaseId = d.currentReleaseId;
  }

  #notePort(t: Track, labels: Record<string, string>): void {
    const port = Number(labels[APP_PORT_LABEL]);
    if (Number.isInteger(port) && port > 0) t.port = port;
  }
}

/** The host port of a loopback upstream ("127.0.0.1:41234" → 41234). */
function portOf(upstream: string | null | undefined): number | undefined {
  const port = Number(upstream?.slice(upstream.lastIndexOf(":") + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function crashLoopReason(t: Track, p: RestartPolicy, lines: string[]): string {
  const code = t.lastExitCode !== undefined ? `exited with code ${t.lastExitCode}` : "stopped";
  const next = t.nextAt ? new Date(t.nextAt).toISOString() : "soon";
  return (
    `crash loop: the app ${code}, ${t.state.exits.length} exits in the last ${Math.round(p.windowMs / 60_000)} min; ` +
    `Kiln starts it again with backoff, next try at ${next}` +
    (lines.length ? `; last lines:\n${lines.join("\n")}` : "")
  );
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 60_000)} min`;
}

async function answers(upstream: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${upstream}/`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

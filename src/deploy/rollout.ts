/**
 * The zero-downtime swap every change of a running app goes through (redeploy, rollback, env and
 * settings changes, scaling): start the new release's containers (one per replica), wait until each
 * passes the app's health check, point Caddy's route at them, then drain the old ones — they get no
 * new requests, those in flight finish (Caddy counts them; up to the drain timeout), then SIGTERM
 * with a grace period, then removal. A new container that fails its check is removed and the old
 * release keeps serving; the error says why.
 *
 *   const instances = await rollout.start(target, signal, log);   // throws StepError, cleans up
 *   await rollout.waitHealthy(target, instances, signal);
 *   await rollout.publish(target, instances);
 *   void rollout.drain(deploymentId, oldInstances, settings.drainTimeoutMs, log);
 */
import type { AppInstance, Deployment } from "../core/deployment.ts";
import { StepError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { MANAGED, volumeLabels, volumeName } from "../core/labels.ts";
import type { LogSink } from "../core/logs.ts";
import type { AppRoute, RouteTable } from "../core/ports/routes.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Secret } from "../core/secret.ts";
import type { AppSettings } from "../core/settings.ts";
import { appContainerSpec, resolvePort } from "../containers/app-spec.ts";
import type { Limits } from "../containers/hardening.ts";
import { NotReady, waitUntilReady } from "../containers/readiness.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";
import type { AppRollout } from "./app-rollout.ts";

/** What to run: one build's image with one env and one set of settings. */
export interface ReleaseTarget {
  deployment: Pick<Deployment, "id" | "name" | "networks">;
  buildId: string;
  /** The release the containers will serve, when it is known before they start. */
  releaseId?: string;
  image: string;
  buildPort: number | null;
  env: Record<string, Secret>;
  settings: AppSettings;
}

export interface RolloutDeps {
  runtime: ContainerRuntime;
  routes: RouteTable;
  watcher: RuntimeWatcher;
  instanceId: string;
  network: string;
  limits: Limits;
  /** How long a new container may take to answer when the app has no health check. */
  readyTimeoutMs: number;
  /** SIGTERM → SIGKILL grace for a drained container. */
  stopGraceSeconds?: number;
  /**
   * A free loopback port for a new replica, which keeps it across restarts (so restarting a replica
   * changes no route: a Caddy reload while requests are being retried fails them). Absent: the engine picks.
   */
  pickHostPort?: () => number;
  /** The engine's refusal of a host port taken meanwhile (retried with another). */
  isPortTaken?: (err: unknown) => boolean;
}

const PORT_ATTEMPTS = 3;
/** How long an app must listen on one other port only (and not on $PORT) before Kiln routes there. */
const PORT_SETTLE_MS = 2000;

/** Label on the one-shot container that hands a new volume to the app's user. */
const VOLUME_INIT = "kiln.volume-init";
const DRAIN_POLL_MS = 100;

export class Rollout implements AppRollout {
  /** Old containers being drained, by container id → deployment id: not the reconciler's to remove. */
  readonly draining = new Map<string, string>();
  readonly #drains = new Set<Promise<void>>();

  constructor(private readonly d: RolloutDeps) {}

  /** Start one container per replica. On any failure the ones made are removed, and it throws. */
  async start(t: ReleaseTarget, signal: AbortSignal, log: LogSink): Promise<AppInstance[]> {
    for (const net of t.deployment.networks) await this.d.runtime.ensureNetwork(net, { [MANAGED]: "true", "kiln.shared-network": net }, "shared");
    await this.#volumes(t, log);
    const port = resolvePort(t.settings, t.buildPort);
    const made: string[] = [];
    try {
      const instances: AppInstance[] = [];
      for (let replica = 0; replica < t.settings.replicas; replica++) {
        signal.throwIfAborted();
        const specFor = (hostPort: number | undefined) =>
          appContainerSpec({
            name: t.deployment.name,
            deploymentId: t.deployment.id,
            buildId: t.buildId,
            releaseId: t.releaseId,
            replica,
            suffix: newId(8),
            image: t.image,
            env: t.env,
            port,
            ...(hostPort ? { hostPort } : {}),
            settings: t.settings,
            limits: this.d.limits,
            network: this.d.network,
            sharedNetworks: t.deployment.networks,
            instanceId: this.d.instanceId,
          });
        let spec = specFor(this.d.pickHostPort?.());
        let id = "";
        for (let attempt = 1; ; attempt++) {
          id = await this.d.runtime.createContainer(spec);
          made.push(id);
          try {
            await this.d.runtime.startContainer(id);
            break;
          } catch (err) {
            if (!spec.hostPort || !this.d.isPortTaken?.(err) || attempt >= PORT_ATTEMPTS) throw err;
            await this.d.runtime.removeContainer(id).catch(() => {});
            made.pop();
            spec = specFor(this.d.pickHostPort?.());
          }
        }
        const info = await this.d.runtime.inspectContainer(id);
        if (!info?.published) throw new StepError(`the container of replica ${replica + 1} started without a published port`, "check that the app does not exit at once");
        instances.push({ containerId: id, upstream: info.published });
        log("system", `container ${spec.name} started${t.settings.replicas > 1 ? ` (replica ${replica + 1} of ${t.settings.replicas})` : ""}, app port ${port} on ${info.published}`);
      }
      return instances;
    } catch (err) {
      await this.discard(made);
      throw err;
    }
  }

  /**
   * Every new container passes the app's health check (or answers HTTP when it has none). When the
   * app's port is not set explicitly and it listens on another port than $PORT (many ignore it), the
   * containers are made again publishing the port it really listens on, and the log says so; the
   * answer carries that port (the release records it). An app listening on loopback only fails at once.
   */
  async waitHealthy(t: ReleaseTarget, instances: AppInstance[], signal: AbortSignal, log: LogSink): Promise<{ instances: AppInstance[]; port?: number }> {
    if (t.settings.port !== null) {
      await this.#waitAll(t, instances, signal);
      return { instances };
    }
    const expected = resolvePort(t.settings, t.buildPort);
    const found = new AbortController();
    let seen = null as PortFinding | null; // set by the watch (a callback TypeScript does not follow)
    const watch = this.#watchPort(instances[0]!.containerId, expected, AbortSignal.any([signal, found.signal])).then((f) => {
      if (f !== null) {
        seen = f;
        found.abort();
      }
    });
    try {
      await this.#waitAll(t, instances, AbortSignal.any([signal, found.signal]));
      found.abort(); // ready: the watch stops at its next tick (not awaited: it would add its pause to every deploy)
      void watch;
      return { instances };
    } catch (err) {
      found.abort();
      await watch;
      if (seen === null || signal.aborted) throw err;
    }
    const finding = seen as PortFinding;
    if (finding.kind === "loopback") {
      await this.discard(instances.map((i) => i.containerId));
      throw new StepError(
        `the app listens on ${finding.address}:${finding.port} only, which nothing outside its container can reach`,
        `listen on 0.0.0.0:$PORT (${expected}) instead, e.g. server.listen(process.env.PORT, "0.0.0.0")`,
      );
    }
    const port = finding.port;
    log("system", `the app listens on ${port}, not $PORT ${expected}; routing to ${port}`);
    await this.discard(instances.map((i) => i.containerId));
    const again: ReleaseTarget = { ...t, buildPort: port };
    const fresh = await this.start(again, signal, log);
    try {
      await this.#waitAll(again, fresh, signal);
    } catch (err) {
      await this.discard(fresh.map((i) => i.containerId));
      throw err;
    }
    return { instances: fresh, port };
  }

  /**
   * Watches where the app listens while it starts: a port other than `expected` when, for at least
   * PORT_SETTLE_MS, it is the only port the app listens on (reachable, not loopback) and nothing
   * listens on `expected` — an app opening a side port (metrics, a debugger) before its main one is
   * not moved; null when it answers where expected, or the watch ends.
   */
  async #watchPort(containerId: string, expected: number, signal: AbortSignal): Promise<PortFinding | null> {
    let candidate: string | null = null;
    let since = 0;
    for (let i = 0; i < 2400 && !signal.aborted; i++) {
      await pause(250, signal);
      if (signal.aborted) return null;
      // 127.0.0.11 is Docker's embedded DNS server, in every container on a user-defined network: not the app.
      const all = (await this.d.runtime.listeningSockets(containerId).catch(() => [])).filter((x) => x.address !== DOCKER_DNS);
      const open = all.filter(reachableSocket);
      const ports = [...new Set(open.map((s) => s.port))];
      if (ports.includes(expected)) return null;
      // One other port only; or, with nothing reachable, a loopback-only socket (the app is up but unreachable).
      const finding: PortFinding | null =
        ports.length === 1 ? { kind: "moved", port: ports[0]! } : ports.length === 0 && all.length > 0 ? { kind: "loopback", address: all[0]!.address, port: all[0]!.port } : null;
      const key = finding ? `${finding.kind}:${finding.port}` : null;
      if (key !== candidate) {
        candidate = key;
        since = Date.now();
      } else if (finding && Date.now() - since >= PORT_SETTLE_MS) return finding;
    }
    return null;
  }

  async #waitAll(t: ReleaseTarget, instances: AppInstance[], signal: AbortSignal): Promise<void> {
    const h = t.settings.healthcheck;
    const many = instances.length > 1;
    await Promise.all(
      instances.map((inst, i) =>
        waitUntilReady({
          runtime: this.d.runtime,
          containerId: inst.containerId,
          probe: { kind: "http", address: inst.upstream!, ...(h ? { path: h.path, expectStatus: h.expectStatus, requestTimeoutMs: h.timeoutMs } : {}) },
          timeoutMs: h ? h.startPeriodMs : this.d.readyTimeoutMs,
          pollMs: h ? Math.min(h.intervalMs, 250) : 25,
          signal,
          name: many ? `replica ${i + 1}'s container` : "the app's container",
        }),
      ),
    ).catch((err: unknown) => {
      if (!(err instanceof NotReady)) throw err;
      const hint =
        err.reason === "timeout" && h
          ? `make sure GET ${h.path} answers ${h.expectStatus ?? "2xx"} once the app is up, or change settings.healthcheck`
          : err.reason === "timeout"
            ? `make sure it listens on 0.0.0.0:$PORT (${resolvePort(t.settings, t.buildPort)}), or set settings.port`
            : "check the start command and that the app listens on $PORT";
      throw new StepError(err.message, hint);
    });
  }

  /** Caddy's route now balances over the new containers only. */
  async publish(t: ReleaseTarget, instances: AppInstance[]): Promise<void> {
    await this.d.routes.upsert(routeFor(t.deployment, instances, t.settings));
  }

  /**
   * The old containers get no new requests (the route moved); wait until Caddy has none in flight to
   * them (at most `timeoutMs`), then stop (SIGTERM, then SIGKILL after the grace) and remove them.
   */
  drain(deploymentId: string, old: AppInstance[], timeoutMs: number, log: LogSink): Promise<void> {
    if (old.length === 0) return Promise.resolve();
    for (const i of old) this.draining.set(i.containerId, deploymentId);
    const p = this.#drain(old, timeoutMs, log).finally(() => {
      for (const i of old) this.draining.delete(i.containerId);
      this.#drains.delete(p);
    });
    this.#drains.add(p);
    return p;
  }

  /** Remove containers that never served (a failed swap), without draining. */
  async discard(containerIds: string[]): Promise<void> {
    for (const id of containerIds) await this.d.runtime.removeContainer(id).catch(() => {});
  }

  /** From their very first line: the containers are new (their start-up output included). */
  follow(deploymentId: string, instances: AppInstance[]): void {
    for (const i of instances) this.d.watcher.watch(deploymentId, i.containerId, 1);
  }

  async anyRunning(instances: AppInstance[]): Promise<boolean> {
    for (const i of instances) if ((await this.d.runtime.inspectContainer(i.containerId))?.running) return true;
    return false;
  }

  /** Every drain in progress has ended (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.#drains.size) await Promise.allSettled([...this.#drains]);
  }

  async #drain(old: AppInstance[], timeoutMs: number, log: LogSink): Promise<void> {
    const upstreams = old.flatMap((i) => (i.upstream ? [i.upstream] : []));
    const deadline = Date.now() + timeoutMs;
    let inFlight = 0;
    for (;;) {
      inFlight = upstreams.length ? await this.d.routes.inFlight(upstreams).catch(() => 0) : 0;
      if (inFlight === 0 || Date.now() >= deadline) break;
      await Bun.sleep(DRAIN_POLL_MS);
    }
    if (inFlight > 0) log("system", `drain: ${inFlight} request(s) still in flight to the old container(s) after ${Math.round(timeoutMs / 1000)} s; stopping them anyway`);
    await Promise.all(
      old.map(async (i) => {
        await this.d.runtime.stopContainer(i.containerId, this.d.stopGraceSeconds ?? 10).catch(() => {});
        this.d.watcher.unwatchContainer(i.containerId);
        await this.d.runtime.removeContainer(i.containerId).catch(() => {});
        this.d.watcher.forget(i.containerId);
      }),
    );
  }

  /** Named volumes exist before the containers (labelled); a new one is handed to the image's user. */
  async #volumes(t: ReleaseTarget, log: LogSink): Promise<void> {
    if (!t.settings.volumes.length) return;
    const existing = new Set((await this.d.runtime.listVolumes({ [MANAGED]: "true", "kiln.deployment": t.deployment.id })).map((v) => v.name));
    const user = await this.d.runtime.imageUser(t.image);
    for (const v of t.settings.volumes) {
      const name = volumeName(t.deployment.id, v.name);
      if (existing.has(name)) continue;
      await this.d.runtime.ensureVolume(name, volumeLabels(this.d.instanceId, t.deployment.id, v.name));
      if (user && user !== "0" && user !== "root" && !user.startsWith("0:")) await this.#handOver(t, name, user);
      log("system", `volume ${v.name} made, mounted at ${v.path}`);
    }
  }

  /** A fresh volume is root's: a one-shot container of the app's image gives it to the app's user. */
  async #handOver(t: ReleaseTarget, volume: string, user: string): Promise<void> {
    const id = await this.d.runtime.createContainer({
      name: `kiln-volume-init-${newId(8)}`,
      image: t.image,
      labels: { [MANAGED]: "true", "kiln.instance": this.d.instanceId, [VOLUME_INIT]: t.deployment.id },
      env: {},
      entrypoint: ["/bin/sh", "-c"],
      cmd: ['chown -- "$1" /kiln-volume', "sh", user],
      user: "0:0",
      capAdd: ["CHOWN"],
      network: "none",
      memoryBytes: 64 * 1024 * 1024,
      nanoCpus: 500_000_000,
      pidsLimit: 16,
      restartPolicy: "no",
      volumes: [{ name: volume, target: "/kiln-volume" }],
    });
    try {
      await this.d.runtime.startContainer(id);
      const code = await this.d.runtime.waitContainer(id, AbortSignal.timeout(30_000));
      if (code !== 0) throw new StepError(`could not hand volume ${volume} to the app's user ${user} (exit code ${code})`, "check that the image has /bin/sh and chown");
    } finally {
      await this.d.runtime.removeContainer(id).catch(() => {});
    }
  }
}

const DOCKER_DNS = "127.0.0.11";

/** Sleeps `ms`, or less when the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      done();
    }, ms);
    signal.addEventListener("abort", stop, { once: true });
  });
}

/** Where the app was found listening instead of $PORT. */
type PortFinding = { kind: "moved"; port: number } | { kind: "loopback"; address: string; port: number };

/** A socket Docker's port proxy can reach (not bound to loopback inside the container). */
function reachableSocket(s: { address: string }): boolean {
  return !(s.address.startsWith("127.") || s.address === "::1");
}

/** The route of a deployment's instances, with Caddy's active health check when the app has one. */
export function routeFor(d: Pick<Deployment, "id" | "name">, instances: AppInstance[], settings: AppSettings): AppRoute {
  const h = settings.healthcheck;
  return {
    deploymentId: d.id,
    name: d.name,
    upstreams: instances.flatMap((i) => (i.upstream ? [i.upstream] : [])),
    ...(h ? { health: { path: h.path, intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, ...(h.expectStatus ? { expectStatus: h.expectStatus } : {}) } } : {}),
  };
}

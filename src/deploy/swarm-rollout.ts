/**
 * The swap for KILN_ENGINE=swarm: a deployment is one Swarm service (adapters/swarm/service-spec.ts).
 * `start` pushes the release's image to the registry every node pulls from, makes sure the app's
 * overlay network exists and the edge is on it, then creates the service (first deploy) or updates it
 * (redeploy, rollback, env/settings change, scale) — Swarm replaces tasks one at a time, start-first:
 * a new task must pass the health check before an old one stops, and a failed update rolls itself
 * back. `waitHealthy` follows that update to its end (or the first tasks to running), and says why
 * when it failed. The app's single instance is the service: `swarm:<service>` with the upstream
 * `tasks.<service>:<port>`, which the edge routes (adapters/swarm/edge-routes.ts). Nothing drains:
 * Swarm stops old tasks itself. A service made by a change that failed is removed; an update that
 * failed leaves the service on the release that served (Swarm's rollback).
 * `follow` has the RuntimeWatcher follow the service (`swarm:<service>`, read by
 * containers/service-follow.ts): every task's output goes into the deployment's log, each line once,
 * resumed after the last stored line across a Kiln restart; a redeploy keeps the service, so its
 * follow goes on (the new tasks' lines join it); stop and delete unwatch it before the service goes.
 * Not (yet) on Swarm: named volumes and shared networks (node-local), and finding the port an app
 * listens on when it ignores $PORT.
 */
import type { AppInstance } from "../core/deployment.ts";
import { StepError } from "../core/errors.ts";
import { INSTANCE, MANAGED } from "../core/labels.ts";
import type { LogSink } from "../core/logs.ts";
import type { RouteTable } from "../core/ports/routes.ts";
import { resolvePort } from "../containers/app-spec.ts";
import type { Limits } from "../containers/hardening.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";
import type { ServiceInfo, SwarmClient, TaskInfo } from "../adapters/swarm/client.ts";
import { appNetworkName, serviceName, serviceSpec, tasksName } from "../adapters/swarm/service-spec.ts";
import type { AppRollout } from "./app-rollout.ts";
import { routeFor, type ReleaseTarget } from "./rollout.ts";

/** An instance that is a Swarm service. */
export const SWARM_INSTANCE_PREFIX = "swarm:";

export function isSwarmInstance(i: Pick<AppInstance, "containerId">): boolean {
  return i.containerId.startsWith(SWARM_INSTANCE_PREFIX);
}

/** Labels of an app's overlay network. */
export function appNetworkLabels(instanceId: string, deploymentId: string): Record<string, string> {
  return { [MANAGED]: "true", [INSTANCE]: instanceId, "kiln.kind": "swarm-app-network", "kiln.deployment": deploymentId };
}

export interface SwarmRolloutDeps {
  swarm: Pick<SwarmClient, "ensureOverlay" | "createService" | "inspectService" | "updateService" | "removeService" | "listTasks">;
  /** Push a local image to the registry; the reference every node pulls. */
  publishImage: (image: string, signal: AbortSignal) => Promise<string>;
  /** Put the edge on an app's overlay network. */
  joinEdge: (network: string) => Promise<void>;
  routes: RouteTable;
  instanceId: string;
  /** Prefix of the apps' overlay networks (KILN_SWARM_NETWORK). */
  networkPrefix: string;
  limits: Limits;
  readyTimeoutMs: number;
  pollMs?: number;
  /** Follows the service's output into the deployment's log (absent: not followed). */
  watcher?: Pick<RuntimeWatcher, "watch" | "watching">;
}

/** Update states that mean the new spec did not take. */
const FAILED_UPDATE = new Set(["paused", "rollback_started", "rollback_completed", "rollback_paused"]);

export class SwarmRollout implements AppRollout {
  /** Services made by a change still in progress: a failure removes them (nothing served from them). */
  readonly #made = new Set<string>();
  /** When each service's update was asked for (its UpdateStatus must be newer to be ours). */
  readonly #updatedAt = new Map<string, number>();

  constructor(private readonly d: SwarmRolloutDeps) {}

  async start(t: ReleaseTarget, signal: AbortSignal, log: LogSink): Promise<AppInstance[]> {
    if (t.settings.volumes.length) {
      throw new StepError("volumes are not supported with KILN_ENGINE=swarm yet (a named volume lives on one node)", "remove settings.volumes, or run this app with KILN_ENGINE=docker");
    }
    if (t.deployment.networks.length) {
      throw new StepError("shared networks are not supported with KILN_ENGINE=swarm yet", "remove the deployment's networks, or run it with KILN_ENGINE=docker");
    }
    const port = resolvePort(t.settings, t.buildPort);
    const ref = await this.d.publishImage(t.image, signal);
    log("system", `image pushed to the registry as ${ref}`);
    const network = appNetworkName(this.d.networkPrefix, t.deployment.id);
    await this.d.swarm.ensureOverlay(network, appNetworkLabels(this.d.instanceId, t.deployment.id));
    await this.d.joinEdge(network);
    const name = serviceName(t.deployment.name, t.deployment.id);
    const existing = await this.d.swarm.inspectService(name);
    const spec = serviceSpec({
      name: t.deployment.name,
      deploymentId: t.deployment.id,
      buildId: t.buildId,
      ...(t.releaseId ? { releaseId: t.releaseId } : {}),
      image: ref,
      env: t.env,
      port,
      settings: t.settings,
      limits: this.d.limits,
      network,
      instanceId: this.d.instanceId,
      readyTimeoutMs: this.d.readyTimeoutMs,
      forceUpdate: existing ? existing.spec.TaskTemplate.ForceUpdate + 1 : 0,
    });
    signal.throwIfAborted();
    if (existing) {
      this.#updatedAt.set(name, Date.now());
      await this.d.swarm.updateService(existing.id, existing.version, spec);
      log("system", `service ${name} updated: ${t.settings.replicas} replica(s), start-first, one at a time`);
    } else {
      await this.d.swarm.createService(spec);
      this.#made.add(name);
      log("system", `service ${name} created with ${t.settings.replicas} replica(s)`);
    }
    return [{ containerId: SWARM_INSTANCE_PREFIX + name, upstream: `${tasksName(name)}:${port}` }];
  }

  /**
   * A new service: until `replicas` tasks run (Swarm reports a task running only once its health
   * check passed). An update: until Swarm says it completed; a rollback or pause is the failure,
   * with the tasks' errors. Either way within the start period per replica, plus Swarm's monitor.
   */
  async waitHealthy(t: ReleaseTarget, instances: AppInstance[], signal: AbortSignal, log: LogSink): Promise<{ instances: AppInstance[] }> {
    const name = this.#serviceOf(instances);
    const h = t.settings.healthcheck;
    const timeoutMs = (h ? h.startPeriodMs : this.d.readyTimeoutMs) * Math.max(1, t.settings.replicas) + 30_000;
    const deadline = Date.now() + timeoutMs;
    const since = this.#updatedAt.get(name) ?? 0;
    const reported = new Set<string>();
    for (;;) {
      signal.throwIfAborted();
      const svc = await this.d.swarm.inspectService(name);
      if (!svc) throw new StepError(`service ${name} disappeared during the change`, "someone removed it (docker service rm?); deploy again");
      const tasks = await this.d.swarm.listTasks(svc.id);
      for (const task of tasks) {
        if (task.error && !reported.has(task.id)) {
          reported.add(task.id);
          log("system", `task ${task.slot ?? "?"} (${task.id.slice(0, 12)}) ${task.state}: ${task.error}`);
        }
      }
      const outcome = this.#outcome(svc, tasks, t.settings.replicas, since);
      if (outcome === "done") return { instances };
      if (outcome !== "waiting") throw new StepError(outcome, "check the app's start-up output (docker service logs) and its health check (settings.healthcheck)");
      if (Date.now() >= deadline) {
        throw new StepError(`service ${name} did not become healthy within ${Math.round(timeoutMs / 1000)} s`, "make sure the app listens on 0.0.0.0:$PORT and passes its health check");
      }
      await Bun.sleep(this.d.pollMs ?? 250);
    }
  }

  /** "done", "waiting", or why the change failed. */
  #outcome(svc: ServiceInfo, tasks: TaskInfo[], replicas: number, since: number): string {
    const fresh = svc.updateStartedAt !== null && Date.parse(svc.updateStartedAt) >= since - 1000;
    if (since && fresh && svc.updateState && FAILED_UPDATE.has(svc.updateState)) {
      if (svc.updateState === "rollback_started") return "waiting"; // its end says the rest
      const why = tasks.find((x) => x.error && x.image === svc.spec.TaskTemplate.ContainerSpec.Image)?.error ?? svc.updateMessage ?? svc.updateState;
      return `the update of service ${svc.name} failed and Swarm rolled it back (${svc.updateState}): ${why}`;
    }
    const image = svc.spec.TaskTemplate.ContainerSpec.Image;
    const running = tasks.filter((x) => x.desiredState === "running" && x.state === "running" && x.image === image);
    if (since) return fresh && svc.updateState === "completed" && running.length >= replicas ? "done" : "waiting";
    if (running.length >= replicas) return "done";
    const failed = tasks.filter((x) => x.state === "failed" || x.state === "rejected");
    if (failed.length >= replicas * 3) return `the tasks of service ${svc.name} keep failing: ${failed[0]!.error ?? failed[0]!.state}`;
    return "waiting";
  }

  async publish(t: ReleaseTarget, instances: AppInstance[]): Promise<void> {
    await this.d.routes.upsert(routeFor(t.deployment, instances, t.settings));
    const name = this.#serviceOf(instances);
    this.#made.delete(name);
    this.#updatedAt.delete(name);
  }

  /** Swarm stopped the old tasks itself (after each new one passed): nothing to drain. */
  drain(): Promise<void> {
    return Promise.resolve();
  }

  /** A service this change made is removed; one that served before stays (Swarm rolled it back). */
  async discard(containerIds: string[]): Promise<void> {
    for (const id of containerIds) {
      if (!id.startsWith(SWARM_INSTANCE_PREFIX)) continue;
      const name = id.slice(SWARM_INSTANCE_PREFIX.length);
      this.#updatedAt.delete(name);
      if (!this.#made.delete(name)) continue;
      await this.d.swarm.removeService(name).catch(() => {});
    }
  }

  /** The service's output into the deployment's log; a service followed already (a redeploy) goes on as it is. */
  follow(deploymentId: string, instances: AppInstance[]): void {
    for (const i of instances) {
      if (isSwarmInstance(i) && !this.d.watcher?.watching(deploymentId, i.containerId)) this.d.watcher?.watch(deploymentId, i.containerId);
    }
  }

  async anyRunning(instances: AppInstance[]): Promise<boolean> {
    for (const i of instances) {
      if (!isSwarmInstance(i)) continue;
      const svc = await this.d.swarm.inspectService(i.containerId.slice(SWARM_INSTANCE_PREFIX.length));
      if (svc && (await this.d.swarm.listTasks(svc.id)).some((x) => x.state === "running")) return true;
    }
    return false;
  }

  #serviceOf(instances: AppInstance[]): string {
    const i = instances[0];
    if (!i || !isSwarmInstance(i)) throw new StepError("no Swarm service to wait for");
    return i.containerId.slice(SWARM_INSTANCE_PREFIX.length);
  }
}

/**
 * Everything KILN_ENGINE=swarm adds, built once by main.ts: the Swarm client, the registry (the
 * operator's KILN_REGISTRY, or Debian's docker-registry that Kiln runs on loopback), the edge Caddy
 * container, the edge route decorator and the Swarm rollout; plus the two removals that keep Swarm
 * free of orphans: an app's service and overlay network go when the deployment stops or is deleted
 * (`removeApp`), and a sweep (at start, then on a timer) removes this Kiln's services and networks
 * whose deployment no longer runs them.
 *
 *   const swarm = await SwarmEngine.start({ config, runtime, instanceId, say });   // refuses a non-manager
 *   const routes = new DomainRoutes(swarm.routesOver(caddyRoutes), domains);
 *   const rollout = swarm.rollout(routes);   // the build runner's AppRollout
 */
import type { Config } from "../config.ts";
import type { Deployment } from "../core/deployment.ts";
import { KilnError } from "../core/errors.ts";
import { INSTANCE, MANAGED } from "../core/labels.ts";
import type { RouteTable } from "../core/ports/routes.ts";
import type { DockerEngine } from "../adapters/docker/engine.ts";
import { EngineHttp } from "../adapters/docker/http.ts";
import { ensureHostStaticImage, probeHostCaddy } from "../adapters/docker/static-image.ts";
import { freeLoopbackPort } from "../adapters/net/loopback-port.ts";
import { SwarmClient } from "../adapters/swarm/client.ts";
import { SwarmEdge } from "../adapters/swarm/edge.ts";
import { SwarmEdgeRoutes } from "../adapters/swarm/edge-routes.ts";
import { LocalRegistry, pushRef } from "../adapters/swarm/registry.ts";
import { pruneRegistry, RegistryHttp } from "../adapters/swarm/registry-prune.ts";
import { appNetworkName, SERVICE_KIND } from "../adapters/swarm/service-spec.ts";
import { SWARM_INSTANCE_PREFIX, SwarmRollout, type SwarmRolloutDeps } from "./swarm-rollout.ts";
import { ServiceFollow } from "../containers/service-follow.ts";
import type { LogSources } from "../core/ports/store.ts";

export interface SwarmEngineOptions {
  config: Config & { engine: { kind: "swarm" } };
  runtime: DockerEngine;
  instanceId: string;
  /** This Kiln's own id (several Kilns share instanceId): names its edge. Default: instanceId. */
  nodeId?: string;
  say: (line: string) => void;
}

/** The registry is pruned on the first sweep and every this many after (15 s apart: every 5 minutes). */
const PRUNE_EVERY_PASSES = 20;

export class SwarmEngine {
  #sweeper: ReturnType<typeof setInterval> | null = null;

  private constructor(
    private readonly o: SwarmEngineOptions,
    readonly client: SwarmClient,
    readonly edge: SwarmEdge,
    readonly registry: string,
    private readonly localRegistry: LocalRegistry | null,
  ) {}

  static async start(o: SwarmEngineOptions): Promise<SwarmEngine> {
    const { config } = o;
    const client = new SwarmClient(new EngineHttp(config.dockerSocket, "v1.41"));
    const state = await client.state();
    if (!state.active || !state.manager) {
      throw new KilnError("unavailable", "KILN_ENGINE=swarm but this Docker engine is not a swarm manager", "run `docker swarm init --advertise-addr 127.0.0.1` (one node), or point KILN_DOCKER_SOCKET at a manager");
    }
    const local = config.engine.registry ? null : new LocalRegistry({ dataDir: config.dataDir, port: config.engine.registryPort, env: config.childEnv, log: o.say });
    await local?.start();
    const edge = new SwarmEdge({
      runtime: o.runtime,
      swarm: client,
      instanceId: o.instanceId,
      owner: o.nodeId ?? o.instanceId,
      dataDir: config.dataDir,
      network: config.dockerNetwork,
      image: async () => ensureHostStaticImage(o.runtime, await probeHostCaddy({ baseEnv: config.childEnv })),
      pickHostPort: freeLoopbackPort,
      publicHost: config.publicHost,
    });
    await edge.start();
    o.say(`swarm: ${state.nodes} node(s); edge on ${edge.address}; images through ${config.engine.registry ?? local!.address}`);
    return new SwarmEngine(o, client, edge, config.engine.registry ?? local!.address, local);
  }

  /** The route table Kiln uses, over the host's Caddy: Swarm apps reach their tasks through the edge. */
  routesOver(inner: RouteTable): SwarmEdgeRoutes {
    return new SwarmEdgeRoutes(inner, this.edge, this.o.config.publicHost);
  }

  rollout(routes: RouteTable, watcher?: SwarmRolloutDeps["watcher"]): SwarmRollout {
    return new SwarmRollout({
      ...(watcher ? { watcher } : {}),
      swarm: this.client,
      publishImage: (image, signal) => this.publishImage(image, signal),
      joinEdge: (network) => this.edge.join(network),
      routes,
      instanceId: this.o.instanceId,
      networkPrefix: this.o.config.engine.networkPrefix,
      limits: this.o.config.appLimits,
      readyTimeoutMs: this.o.config.readyTimeoutMs,
    });
  }

  /** The RuntimeWatcher's follow of the apps' services (their output into their deployments' logs). */
  logFollow(sources: LogSources): ServiceFollow {
    return new ServiceFollow(this.client, sources, SWARM_INSTANCE_PREFIX);
  }

  /** Tag the local image for the registry and push it (layers the registry has are not sent again). */
  async publishImage(image: string, signal: AbortSignal): Promise<string> {
    const { repo, tag, ref } = pushRef(this.registry, image);
    await this.client.tag(image, repo, tag);
    await this.client.push(repo, tag, signal);
    return ref;
  }

  /** The deployment's service and overlay network go (stop, delete). */
  async removeApp(deploymentId: string): Promise<void> {
    for (const s of await this.client.listServices({ [INSTANCE]: this.o.instanceId, "kiln.deployment": deploymentId, "kiln.kind": SERVICE_KIND })) {
      await this.client.removeService(s.id);
    }
    await this.#removeNetwork(appNetworkName(this.o.config.engine.networkPrefix, deploymentId));
  }

  /**
   * This Kiln's services whose deployment is gone or does not serve from them (not running, or its
   * instances name another service), and networks of deployments that are gone, are removed.
   * `busy` deployments (a change in flight) are left alone.
   */
  async sweep(deployments: Deployment[], busy: (id: string) => boolean): Promise<string[]> {
    const byId = new Map(deployments.map((d) => [d.id, d]));
    const removed: string[] = [];
    for (const s of await this.client.listServices({ [MANAGED]: "true", [INSTANCE]: this.o.instanceId, "kiln.kind": SERVICE_KIND })) {
      const id = s.labels["kiln.deployment"] ?? "";
      const d = byId.get(id);
      if (d && busy(d.id)) continue;
      const serves = d && d.status !== "stopped" && d.instances.some((i) => i.containerId === SWARM_INSTANCE_PREFIX + s.name);
      if (serves) continue;
      await this.client.removeService(s.id);
      removed.push(s.name);
    }
    for (const net of await this.client.listNetworks({ [MANAGED]: "true", [INSTANCE]: this.o.instanceId, "kiln.kind": "swarm-app-network" })) {
      const id = net.slice(this.o.config.engine.networkPrefix.length + 1);
      if (byId.has(id)) continue;
      await this.#removeNetwork(net);
      removed.push(net);
    }
    return removed;
  }

  startSweeps(list: () => Promise<Deployment[]>, busy: (id: string) => boolean, intervalMs = 15_000): void {
    let passes = 0;
    const pass = () =>
      list()
        .then((ds) => this.sweep(ds, busy))
        .then((gone) => gone.forEach((n) => this.o.say(`swarm: removed ${n}: no deployment serves from it`)))
        .then(() => (passes++ % PRUNE_EVERY_PASSES === 0 ? this.pruneRegistry() : undefined))
        .catch((err: unknown) => this.o.say(`swarm sweep: ${err instanceof Error ? err.message : String(err)}`));
    this.stopSweeps();
    void pass();
    this.#sweeper = setInterval(pass, intervalMs);
    this.#sweeper.unref?.();
  }

  /**
   * Kiln's own registry keeps what the engine keeps: app image tags whose image garbage collection
   * removed are deleted (adapters/swarm/registry-prune.ts). Not for a registry named by KILN_REGISTRY.
   */
  async pruneRegistry(): Promise<string[]> {
    if (!this.localRegistry) return [];
    const deleted = await pruneRegistry(new RegistryHttp(this.localRegistry.address), (image) => this.o.runtime.imageExists(image));
    if (deleted.length) this.o.say(`swarm: removed ${deleted.length} image(s) from the registry the engine no longer keeps: ${deleted.join(", ")}`);
    return deleted;
  }

  /** No more sweeps (several Kilns: this one stopped leading; another sweeps now). */
  stopSweeps(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  /** Timers and Kiln's own registry stop; services, networks and the edge keep serving (like Caddy). */
  async stop(): Promise<void> {
    this.stopSweeps();
    await this.localRegistry?.stop();
  }

  /** The edge leaves the network, then it goes — once the service's tasks have let go of it (a few seconds). */
  async #removeNetwork(name: string): Promise<void> {
    await this.edge.leave(name).catch(() => {});
    for (let i = 0; i < 40; i++) {
      try {
        await this.client.removeNetwork(name);
        return;
      } catch (err) {
        if (!(err instanceof KilnError) || i === 39) {
          this.o.say(`swarm: network ${name} left for the sweep: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        await Bun.sleep(250);
      }
    }
  }
}

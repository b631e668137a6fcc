/**
 * A RouteTable decorator for KILN_ENGINE=swarm: a Swarm app's route (its one upstream is
 * `tasks.<service>:<port>`, see deploy/swarm-rollout.ts) becomes an edge route (edge-config.ts) plus,
 * in the host's Caddy, the same hosts and `/d/<id>` path proxied to the edge's loopback address.
 * Every other route passes through unchanged. It sits under DomainRoutes, so an app's domains reach
 * the edge too; `load` (boot, Caddy restarted) rebuilds the edge's config from the same routes.
 * The host-side route has no active health check (the edge answers for every app; Swarm keeps
 * unhealthy tasks out of DNS), and nothing drains: Swarm stops old tasks itself after start-first.
 */
import type { AppRoute, RouteTable } from "../../core/ports/routes.ts";
import { edgeConfig, parseTasksUpstream, type EdgeApp } from "./edge-config.ts";

export interface EdgeTarget {
  readonly address: string;
  apply(config: Record<string, unknown>): Promise<void>;
}

export class SwarmEdgeRoutes implements RouteTable {
  readonly #apps = new Map<string, EdgeApp>();
  /** One edge reload at a time, in call order. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inner: RouteTable,
    private readonly edge: EdgeTarget,
    private readonly publicHost: string,
  ) {}

  /** The edge app of a route, or null when it is not a Swarm app's. */
  edgeAppOf(route: AppRoute): EdgeApp | null {
    const only = route.upstreams.length === 1 ? parseTasksUpstream(route.upstreams[0]!) : null;
    if (!only) return null;
    const hosts = [`${route.name}.${this.publicHost}`.toLowerCase(), ...(route.hosts ?? [])];
    return { deploymentId: route.deploymentId, hosts, service: only.service, port: only.port };
  }

  /** The host-side route of a Swarm app: to the edge, without Caddy's active check. */
  #viaEdge(route: AppRoute): AppRoute {
    const { health: _health, ...rest } = route;
    return { ...rest, upstreams: [this.edge.address] };
  }

  async load(routes: AppRoute[]): Promise<void> {
    this.#apps.clear();
    const out: AppRoute[] = [];
    for (const r of routes) {
      const app = this.edgeAppOf(r);
      if (app) this.#apps.set(r.deploymentId, app);
      out.push(app ? this.#viaEdge(r) : r);
    }
    await this.#reload();
    await this.inner.load(out);
  }

  async upsert(route: AppRoute): Promise<void> {
    const app = this.edgeAppOf(route);
    if (app) {
      this.#apps.set(route.deploymentId, app);
      await this.#reload(); // the edge knows the app before the host's Caddy sends it anything
      return this.inner.upsert(this.#viaEdge(route));
    }
    await this.inner.upsert(route);
    if (this.#apps.delete(route.deploymentId)) await this.#reload();
  }

  async remove(deploymentId: string): Promise<void> {
    await this.inner.remove(deploymentId);
    if (this.#apps.delete(deploymentId)) await this.#reload();
  }

  list(): Promise<string[]> {
    return this.inner.list();
  }

  healthy(): Promise<boolean> {
    return this.inner.healthy();
  }

  inFlight(upstreams: string[]): Promise<number> {
    return this.inner.inFlight(upstreams);
  }

  #reload(): Promise<void> {
    const next = this.#chain.catch(() => {}).then(() => this.edge.apply(edgeConfig([...this.#apps.values()], this.publicHost)));
    this.#chain = next;
    return next;
  }
}

/**
 * A RouteTable that adds each deployment's own domains to the routes it is given. Every caller builds
 * routes without hosts (deploy/rollout.ts routeFor); this one knows the hosts (loaded from
 * store.domains at boot, then kept by DomainService) and re-applies a deployment's last route when
 * they change. Since Caddy's config is always rebuilt through it (boot, supervisor restart → reload),
 * domains come back with every route.
 */
import type { Domain } from "../core/domains.ts";
import type { AppRoute, RouteTable } from "../core/ports/routes.ts";

export class DomainRoutes implements RouteTable {
  readonly #inner: RouteTable;
  readonly #hosts = new Map<string, string[]>();
  /** The last route given for each deployment in Caddy (without hosts), to re-apply on a change. */
  readonly #last = new Map<string, AppRoute>();

  constructor(inner: RouteTable, domains: Domain[]) {
    this.#inner = inner;
    const by = new Map<string, string[]>();
    for (const d of domains) by.set(d.deploymentId, [...(by.get(d.deploymentId) ?? []), d.host]);
    for (const [id, hosts] of by) this.#hosts.set(id, [...hosts].sort());
  }

  hostsOf(deploymentId: string): string[] {
    return this.#hosts.get(deploymentId) ?? [];
  }

  /** Replace a deployment's hosts; when it has a route now, Caddy serves the new set at once. */
  async setHosts(deploymentId: string, hosts: string[]): Promise<void> {
    if (hosts.length) this.#hosts.set(deploymentId, [...new Set(hosts)].sort());
    else this.#hosts.delete(deploymentId);
    const last = this.#last.get(deploymentId);
    if (last) await this.#inner.upsert(this.#with(last));
  }

  load(routes: AppRoute[]): Promise<void> {
    this.#last.clear();
    for (const r of routes) this.#last.set(r.deploymentId, r);
    return this.#inner.load(routes.map((r) => this.#with(r)));
  }

  upsert(route: AppRoute): Promise<void> {
    this.#last.set(route.deploymentId, route);
    return this.#inner.upsert(this.#with(route));
  }

  remove(deploymentId: string): Promise<void> {
    this.#last.delete(deploymentId);
    return this.#inner.remove(deploymentId);
  }

  list(): Promise<string[]> {
    return this.#inner.list();
  }

  healthy(): Promise<boolean> {
    return this.#inner.healthy();
  }

  inFlight(upstreams: string[]): Promise<number> {
    return this.#inner.inFlight(upstreams);
  }

  #with(route: AppRoute): AppRoute {
    const hosts = this.#hosts.get(route.deploymentId);
    return hosts?.length ? { ...route, hosts } : route;
  }
}

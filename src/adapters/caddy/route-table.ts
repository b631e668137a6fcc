/**
 * RouteTable over Caddy's admin API. Kiln owns Caddy's config: load() replaces all of it,
 * upsert()/remove() touch one app's route by its @id. Mutations run one at a time so two
 * upserts cannot race the "does this id exist yet?" check.
 */
import type { AppRoute, RouteTable } from "../../core/ports/routes.ts";
import { CaddyAdminClient } from "./admin-client.ts";
import {
  ROUTES_PATH,
  adminListenOf,
  appRoute,
  deploymentIdOf,
  idPath,
  kilnConfig,
  routeId,
  type IngressOptions,
} from "./route-json.ts";

export interface CaddyRouteTableOptions {
  /** e.g. http://127.0.0.1:2019 */
  adminUrl: string;
  /** Apps are served at <name>.<publicHost>:<publicPort>. */
  publicHost: string;
  publicPort: number;
  /** Interface the public port binds to; all interfaces when absent. */
  listenHost?: string;
  /** host:port of Kiln's tenant resolver: adds the one route of all tenants. */
  tenantResolver?: string;
}

export class CaddyRouteTable implements RouteTable {
  private readonly admin: CaddyAdminClient;
  private readonly adminListen: string;
  private ingress: IngressOptions;
  private queue: Promise<void> = Promise.resolve();
  /**
   * The route ids this table loaded or inserted into the ingress server it loaded, so a new route
   * costs one request (PUT) on the hot path. Null until the first load: then every upsert asks Caddy.
   * Kiln owns Caddy's config; if Caddy restarts, the supervisor's reload rebuilds this.
   */
  private known: Set<string> | null = null;

  constructor(opts: CaddyRouteTableOptions) {
    this.admin = new CaddyAdminClient(opts.adminUrl);
    this.adminListen = adminListenOf(opts.adminUrl);
    this.ingress = { publicHost: opts.publicHost, publicPort: opts.publicPort, listenHost: opts.listenHost, tenantResolver: opts.tenantResolver };
  }

  /** Point the tenants route at another resolver address (takes effect with the next load). */
  setTenantResolver(address: string): void {
    this.ingress.tenantResolver = address;
  }

  load(routes: AppRoute[]): Promise<void> {
    return this.serialize(() => this.loadNow(routes));
  }

  async upsert(route: AppRoute): Promise<void> {
    const body = appRoute(route, this.ingress.publicHost); // validates before queueing
    await this.serialize(async () => {
      const id = routeId(route.deploymentId);
      const path = idPath(id);
      if (this.known && !this.known.has(id)) {
        // Fast path: a route this table has never put there goes in front, in one request.
        const put = await this.admin.put(`${ROUTES_PATH}/0`, body, { allow: [400, 404, 500] });
        if (put.status < 300) {
          this.known.add(id);
          return;
        }
        this.known = null; // Caddy's config is not what we loaded (restarted?): ask it
      }
      const existing = await this.admin.get(path, { allow: [404] });
      if (existing.status !== 404) {
        await this.admin.patch(path, body);
        return;
      }
      if ((await this.currentRoutes()) === null) {
        // No ingress server yet (fresh Caddy): nothing of Kiln's to keep, so load it with this route.
        await this.loadNow([route]);
        return;
      }
      // Index 0 puts it before the fallback (and before an older route for the same host).
      await this.admin.put(`${ROUTES_PATH}/0`, body);
    });
  }

  remove(deploymentId: string): Promise<void> {
    return this.serialize(async () => {
      await this.admin.delete(idPath(routeId(deploymentId)), { allow: [404] });
      this.known?.delete(routeId(deploymentId));
    });
  }

  async list(): Promise<string[]> {
    const routes = await this.currentRoutes();
    const ids: string[] = [];
    for (const r of routes ?? []) {
      const id = r && typeof r === "object" ? deploymentIdOf((r as Record<string, unknown>)["@id"]) : null;
      if (id) ids.push(id);
    }
    return ids;
  }

  healthy(): Promise<boolean> {
    return this.admin.answers();
  }

  private async loadNow(routes: AppRoute[]): Promise<void> {
    this.known = null;
    await this.admin.post("/load", kilnConfig(this.adminListen, this.ingress, routes));
    this.known = new Set(routes.map((r) => routeId(r.deploymentId)));
  }

  /** The ingress server's routes, or null when Caddy has no ingress server. */
  private async currentRoutes(): Promise<unknown[] | null> {
    // Caddy answers 400 "invalid traversal path" when a parent of the path is missing.
    const res = await this.admin.get(ROUTES_PATH, { allow: [400, 404] });
    return res.status === 200 && Array.isArray(res.body) ? res.body : null;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

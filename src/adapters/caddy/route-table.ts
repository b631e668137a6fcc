/**
 * RouteTable over Caddy's admin API. Kiln owns Caddy's config: load() replaces all of it,
 * upsert()/remove() touch one app's route by its @id. Mutations run one at a time so two
 * upserts cannot race the "does this id exist yet?" check.
 *
 * Draining: Caddy 2.6 keeps serving a request in flight to an upstream a config change removed, but
 * forgets that upstream's request count at once, and a connection it accepted before the change may
 * still start a request to it for ~6 s (Go's shutdown closes a connection that never sent a request
 * only after 5 s). So an upstream switched out of a route stays named in that route (or, after
 * remove(), in a drain route) where no request matches it, until it is idle and LATE_START_MS
 * passed; until then inFlight() counts it as at least 1.
 */
import type { AppRoute, RouteTable } from "../../core/ports/routes.ts";
import { CaddyAdminClient } from "./admin-client.ts";
import {
  DRAIN_ID_PREFIX,
  ROUTES_PATH,
  UPSTREAMS_PATH,
  adminListenOf,
  appRoute,
  deploymentIdOf,
  firstAppIndex,
  drainRoute,
  idPath,
  kilnConfig,
  routeId,
  upstreamsOf,
  type IngressOptions,
  type IngressTls,
} from "./route-json.ts";

/** How long after a switch Caddy may still start a request to a switched-out upstream (Go: 5 s + shutdown polling). */
export const LATE_START_MS = 7000;

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
  /** HTTPS (see route-json.ts); off when absent. */
  tls?: IngressTls;
  /** host:port of Kiln's API on loopback: the hooks route and the TLS ask check. */
  api?: string;
  /** host:port where Kiln reads Caddy's access log (request stats); none when absent. */
  accessLog?: string;
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
  /** The upstreams this table last routed each deployment to. */
  private routed = new Map<string, string[]>();
  /** Per deployment: upstreams switched out of its route, and when. */
  private switchedOut = new Map<string, Map<string, number>>();
  /** Removed deployments whose drain route this table put in Caddy. */
  private drainRoutes = new Set<string>();

  constructor(opts: CaddyRouteTableOptions) {
    this.admin = new CaddyAdminClient(opts.adminUrl);
    this.adminListen = adminListenOf(opts.adminUrl);
    this.ingress = { publicHost: opts.publicHost, publicPort: opts.publicPort, listenHost: opts.listenHost, tenantResolver: opts.tenantResolver, tls: opts.tls, api: opts.api, accessLog: opts.accessLog };
  }

  /** Point the tenants route at another resolver address (takes effect with the next load). */
  setTenantResolver(address: string): void {
    this.ingress.tenantResolver = address;
  }

  load(routes: AppRoute[]): Promise<void> {
    return this.serialize(() => this.loadNow(routes));
  }

  async upsert(route: AppRoute): Promise<void> {
    appRoute(route, this.ingress.publicHost); // validates before queueing
    await this.serialize(async () => {
      const id = routeId(route.deploymentId);
      const path = idPath(id);
      await this.sweepDrainRoutes(route.deploymentId);
      this.switchOut(route.deploymentId, await this.routedNow(route.deploymentId), route.upstreams);
      const body = appRoute(route, this.ingress.publicHost, await this.stillDraining(route.deploymentId));
      await this.put(id, path, route, body);
      this.routed.set(route.deploymentId, [...route.upstreams]);
    });
  }

  remove(deploymentId: string): Promise<void> {
    return this.serialize(async () => {
      const id = routeId(deploymentId);
      await this.sweepDrainRoutes();
      this.switchOut(deploymentId, await this.routedNow(deploymentId), []);
      const draining = await this.stillDraining(deploymentId);
      // Replace the app's route with one that serves nothing but keeps its upstreams counted.
      const drained = draining.length > 0 && (await this.admin.patch(idPath(id), drainRoute(deploymentId, draining), { allow: [404] })).status < 300;
      if (drained) this.drainRoutes.add(deploymentId);
      else await this.admin.delete(idPath(id), { allow: [404] });
      this.known?.delete(id);
      this.routed.delete(deploymentId);
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

  async inFlight(upstreams: string[]): Promise<number> {
    const counts = await this.counts();
    const now = Date.now();
    let n = 0;
    for (const u of new Set(upstreams)) {
      const count = counts.get(u) ?? 0;
      n += count > 0 ? count : this.mayStillStart(u, now) ? 1 : 0;
    }
    return n;
  }

  /** Delete the drain routes whose upstreams are idle (and that of `deploymentId`, about to be routed again). */
  private async sweepDrainRoutes(deploymentId?: string): Promise<void> {
    for (const id of [...this.drainRoutes]) {
      if (id !== deploymentId && (await this.stillDraining(id)).length > 0) continue;
      await this.admin.delete(idPath(DRAIN_ID_PREFIX + id), { allow: [404] });
      this.drainRoutes.delete(id);
    }
  }

  /** The upstreams Caddy routes this deployment to now: as this table last routed it, else as Caddy has it. */
  private async routedNow(deploymentId: string): Promise<string[]> {
    const mine = this.routed.get(deploymentId);
    if (mine) return mine;
    const id = routeId(deploymentId);
    if (this.known && !this.known.has(id)) return [];
    const existing = await this.admin.get(idPath(id), { allow: [404] });
    return existing.status === 404 ? [] : upstreamsOf(existing.body);
  }

  private switchOut(deploymentId: string, before: string[], after: string[]): void {
    const out = this.switchedOut.get(deploymentId) ?? new Map<string, number>();
    const now = Date.now();
    for (const u of before) if (!after.includes(u)) out.set(u, now);
    for (const u of after) out.delete(u);
    if (out.size > 0) this.switchedOut.set(deploymentId, out);
    else this.switchedOut.delete(deploymentId);
  }

  /** This deployment's switched-out upstreams that may still serve a request; forgets the others. */
  private async stillDraining(deploymentId: string): Promise<string[]> {
    const out = this.switchedOut.get(deploymentId);
    if (!out) return [];
    const counts = await this.counts();
    const now = Date.now();
    for (const u of [...out.keys()]) if ((counts.get(u) ?? 0) === 0 && !this.mayStillStart(u, now)) out.delete(u);
    if (out.size === 0) this.switchedOut.delete(deploymentId);
    return [...out.keys()];
  }

  /** True when `upstream` left a route less than LATE_START_MS ago (and is not routed again). */
  private mayStillStart(upstream: string, now: number): boolean {
    for (const out of this.switchedOut.values()) {
      const at = out.get(upstream);
      if (at !== undefined && now - at < LATE_START_MS) return true;
    }
    return false;
  }

  private async counts(): Promise<Map<string, number>> {
    return countsOf((await this.admin.get(UPSTREAMS_PATH)).body);
  }

  /** Put an app's route in Caddy: replace it when there, else insert it in front. */
  private async put(id: string, path: string, route: AppRoute, body: Record<string, unknown>): Promise<void> {
    if (this.known && !this.known.has(id)) {
      // Fast path: a route this table has never put there goes in front, in one request.
      const put = await this.admin.put(this.insertPath(), body, { allow: [400, 404, 500] });
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
    // In front puts it before the fallback (and before an older route for the same host), after the hooks route.
    await this.admin.put(this.insertPath(), body);
  }

  private insertPath(): string {
    return `${ROUTES_PATH}/${firstAppIndex(this.ingress)}`;
  }

  private async loadNow(routes: AppRoute[]): Promise<void> {
    const after = new Map(routes.map((r) => [r.deploymentId, r.upstreams] as const));
    for (const [id, before] of this.routed) if (!after.has(id)) this.switchOut(id, before, []);
    for (const [id, ups] of after) this.switchOut(id, this.routed.get(id) ?? [], ups);
    const draining = new Map<string, string[]>();
    for (const id of [...this.switchedOut.keys()]) {
      const ups = await this.stillDraining(id).catch(() => [...(this.switchedOut.get(id)?.keys() ?? [])]);
      if (ups.length > 0) draining.set(id, ups);
    }
    this.known = null;
    await this.admin.post("/load", kilnConfig(this.adminListen, this.ingress, routes, draining));
    this.known = new Set(routes.map((r) => routeId(r.deploymentId)));
    this.routed = new Map([...after].map(([id, ups]) => [id, [...ups]]));
    this.drainRoutes = new Set([...draining.keys()].filter((id) => !after.has(id)));
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

/** address → requests in flight, from Caddy's answer to GET /reverse_proxy/upstreams. */
export function countsOf(body: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(body)) return counts;
  for (const u of body) {
    if (!u || typeof u !== "object") continue;
    const { address, num_requests } = u as { address?: unknown; num_requests?: unknown };
    if (typeof address === "string" && typeof num_requests === "number" && num_requests > 0) {
      counts.set(address, (counts.get(address) ?? 0) + num_requests);
    }
  }
  return counts;
}

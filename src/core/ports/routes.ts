/**
 * The route table: the only way Kiln talks to Caddy. Implemented by
 * src/adapters/caddy/route-table.ts over Caddy's admin API.
 */
export interface AppRoute {
  deploymentId: string;
  /** One or more DNS labels: served at http://<name>.<publicHost>:<publicPort>/ (tenants: "<tenant>.<workload>"). */
  name: string;
  /**
   * Also served at http://<publicHost>:<publicPort>/d/<deploymentId>/ with the prefix stripped.
   * 1–32 host:port, always on loopback; requests go round robin, a failed one is skipped for a few seconds.
   */
  upstreams: string[];
  /** Active health check: an upstream that does not answer `path` with expectStatus (any 2xx by default) gets no traffic. */
  health?: { path: string; intervalMs: number; timeoutMs: number; expectStatus?: number };
}

export interface RouteTable {
  /** Make Caddy's config Kiln's: the ingress server on publicPort with the 404 fallback, plus `routes`. */
  load(routes: AppRoute[]): Promise<void>;
  /** Add or replace one app's route without touching the others. */
  upsert(route: AppRoute): Promise<void>;
  remove(deploymentId: string): Promise<void>;
  /** Deployment ids that have a route in Caddy right now. */
  list(): Promise<string[]>;
  /** True when the admin API answers. */
  healthy(): Promise<boolean>;
  /**
   * Requests Caddy is proxying to these host:port addresses right now (summed). For draining an old
   * upstream after a swap: wait until 0, then stop it.
   */
  inFlight(upstreams: string[]): Promise<number>;
}

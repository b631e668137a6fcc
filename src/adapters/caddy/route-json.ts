/**
 * Caddy JSON config, built as data. Pure functions only: the admin client sends what these return.
 *
 * Shape: apps.http.servers.kiln listens on the public port; its routes are one route per app
 * (`@id: kiln-app-<deploymentId>`), then, when pools are on, the one static route of every tenant
 * (`@id: kiln-tenants`, upstream looked up per host through Kiln's resolver), then a 404 fallback
 * (`@id: kiln-fallback`).
 */
import type { AppRoute } from "../../core/ports/routes.ts";
import { KilnError } from "../../core/errors.ts";
import { isHostName } from "../../core/names.ts";

export const SERVER_NAME = "kiln";
export const ROUTE_ID_PREFIX = "kiln-app-";
export const FALLBACK_ID = "kiln-fallback";
export const FALLBACK_BODY = "no app is deployed at this address\n";
export const TENANTS_ID = "kiln-tenants";
export const NO_TENANT_BODY = "no tenant container answers at this address\n";
/**
 * How long Caddy reuses a tenant's looked-up upstream. Short, because a release and re-claim moves
 * the tenant to another member; a stale answer then dials a removed member's port, is refused, and
 * the request is retried (TENANT_TRY) with a fresh lookup, so it costs time, never a wrong upstream.
 */
export const TENANT_LOOKUP_REFRESH = "100ms";
export const TENANT_TRY = { duration: "1s", interval: "50ms" };
/** How long Caddy waits to connect to an app before answering 502. */
export const DIAL_TIMEOUT = "3s";

/** Admin-API paths. */
export const ROUTES_PATH = `/config/apps/http/servers/${SERVER_NAME}/routes`;
export const idPath = (id: string) => `/id/${encodeURIComponent(id)}`;

export interface IngressOptions {
  /** Apps are served at <name>.<publicHost>. */
  publicHost: string;
  publicPort: number;
  /** Interface to bind the public port on; all interfaces when absent. */
  listenHost?: string;
  /** host:port of Kiln's tenant resolver (UDP); without it there is no tenants route. */
  tenantResolver?: string;
}

// Caddy JSON is loosely typed; these aliases document intent without pretending to model it all.
export type CaddyRoute = Record<string, unknown>;
export type CaddyConfig = Record<string, unknown>;

export function routeId(deploymentId: string): string {
  return ROUTE_ID_PREFIX + deploymentId;
}

/** The deployment id in a route's @id, or null when the route is not an app route. */
export function deploymentIdOf(id: unknown): string | null {
  return typeof id === "string" && id.startsWith(ROUTE_ID_PREFIX) ? id.slice(ROUTE_ID_PREFIX.length) || null : null;
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const UPSTREAM_RE = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;

/** Reject routes that would break Caddy's matchers or address another route's path. */
export function validateRoute(route: AppRoute): void {
  const bad = (what: string) =>
    new KilnError("internal", `cannot route ${what}`, "this is a bug in Kiln: routes are built from validated deployments");
  if (!ID_RE.test(route.deploymentId)) throw bad(`deployment id ${JSON.stringify(route.deploymentId)}`);
  if (!isHostName(route.name)) throw bad(`name ${JSON.stringify(route.name)} (not DNS labels)`);
  if (!UPSTREAM_RE.test(route.upstream)) throw bad(`upstream ${JSON.stringify(route.upstream)} (want host:port)`);
}

/** `:<port>` or `<host>:<port>`, as Caddy's `listen` wants it. */
export function listenAddress(opts: IngressOptions): string {
  const host = opts.listenHost ?? "";
  return `${host.includes(":") ? `[${host}]` : host}:${opts.publicPort}`;
}

export function pathPrefix(deploymentId: string): string {
  return `/d/${deploymentId}`;
}

function reverseProxy(upstream: string, extraRequestHeaders?: Record<string, string[]>): Record<string, unknown> {
  // Caddy sets X-Forwarded-For/-Proto/-Host itself.
  return {
    handler: "reverse_proxy",
    upstreams: [{ dial: upstream }],
    transport: { protocol: "http", dial_timeout: DIAL_TIMEOUT },
    ...(extraRequestHeaders ? { headers: { request: { set: extraRequestHeaders } } } : {}),
  };
}

/**
 * One app's route: host `<name>.<publicHost>` proxies as is; path `/d/<id>` and `/d/<id>/*` on the
 * public host itself proxies with the prefix stripped (the app sees `/…`, and the prefix in
 * X-Forwarded-Prefix). Under any other host (another app's, a tenant's, an IP) the path is not
 * this app's: one app's pages are never served under another's name. Caddy's host matcher ignores
 * the Host header's port, so `localhost` and `localhost:8080` both match.
 */
export function appRoute(route: AppRoute, publicHost: string): CaddyRoute {
  validateRoute(route);
  const host = `${route.name}.${publicHost}`.toLowerCase();
  const prefix = pathPrefix(route.deploymentId);
  const paths = [prefix, `${prefix}/*`];
  return {
    "@id": routeId(route.deploymentId),
    match: [{ host: [host] }, { host: [publicHost.toLowerCase()], path: paths }],
    handle: [
      {
        handler: "subroute",
        routes: [
          { match: [{ host: [host] }], handle: [reverseProxy(route.upstream)], terminal: true },
          {
            handle: [
              { handler: "rewrite", strip_path_prefix: prefix },
              reverseProxy(route.upstream, { "X-Forwarded-Prefix": [prefix] }),
            ],
          },
        ],
      },
    ],
    terminal: true,
  };
}

/** Every tenant's host: `<tenant>.<workload>.<publicHost>`. */
export function tenantHosts(publicHost: string): string {
  return `*.*.${publicHost}`.toLowerCase();
}

/**
 * The one route of all tenants. Its upstream is an SRV lookup of the request's host against Kiln's
 * resolver, whose target is a name the same resolver answers with a loopback address: so a claim or
 * a release changes no Caddy config at all.
 */
export function tenantsRoute(publicHost: string, resolver: string): CaddyRoute {
  const dns = { addresses: [`udp/${resolver}`] };
  return {
    "@id": TENANTS_ID,
    match: [{ host: [tenantHosts(publicHost)] }],
    handle: [
      {
        handler: "reverse_proxy",
        dynamic_upstreams: { source: "srv", name: "{http.request.host}", refresh: TENANT_LOOKUP_REFRESH, resolver: dns, dial_timeout: "1s" },
        load_balancing: { try_duration: TENANT_TRY.duration, try_interval: TENANT_TRY.interval },
        transport: { protocol: "http", dial_timeout: DIAL_TIMEOUT, resolver: dns },
      },
    ],
    terminal: true,
  };
}

/** What a tenant host answers when no container does (unknown tenant, released, or down). */
export function tenantErrorRoute(publicHost: string): CaddyRoute {
  return {
    match: [{ host: [tenantHosts(publicHost)] }],
    handle: [{ handler: "static_response", status_code: "{http.error.status_code}", body: NO_TENANT_BODY }],
  };
}

export function fallbackRoute(): CaddyRoute {
  return {
    "@id": FALLBACK_ID,
    handle: [{ handler: "static_response", status_code: 404, body: FALLBACK_BODY }],
  };
}

/** The ingress server: app routes (last one given per deployment id wins), then the fallback. */
export function ingressServer(opts: IngressOptions, routes: AppRoute[]): Record<string, unknown> {
  const byId = new Map<string, AppRoute>();
  for (const r of routes) byId.set(r.deploymentId, r);
  const tenants = opts.tenantResolver ? [tenantsRoute(opts.publicHost, opts.tenantResolver)] : [];
  return {
    listen: [listenAddress(opts)],
    routes: [...[...byId.values()].map((r) => appRoute(r, opts.publicHost)), ...tenants, fallbackRoute()],
    ...(opts.tenantResolver ? { errors: { routes: [tenantErrorRoute(opts.publicHost)] } } : {}),
    automatic_https: { disable: true },
  };
}

/** The admin block. Kept identical in every config Kiln loads so the admin address never moves. */
export function adminBlock(adminListen: string): Record<string, unknown> {
  return { listen: adminListen, config: { persist: false } };
}

/** What the supervisor starts Caddy with: just the admin API, nothing persisted. */
export function bootstrapConfig(adminListen: string): CaddyConfig {
  return { admin: adminBlock(adminListen) };
}

/** The whole config Kiln owns, for POST /load. */
export function kilnConfig(adminListen: string, opts: IngressOptions, routes: AppRoute[]): CaddyConfig {
  return {
    admin: adminBlock(adminListen),
    apps: { http: { servers: { [SERVER_NAME]: ingressServer(opts, routes) } } },
  };
}

/** `host:port` of an admin URL like http://127.0.0.1:2019, the form Caddy's admin.listen takes. */
export function adminListenOf(adminUrl: string): string {
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    throw new KilnError("bad_request", `invalid Caddy admin URL ${JSON.stringify(adminUrl)}`, "use e.g. http://127.0.0.1:2019");
  }
  if (url.protocol !== "http:") {
    throw new KilnError("bad_request", `Caddy admin URL must be http://, got ${url.protocol}`, "use e.g. http://127.0.0.1:2019");
  }
  const port = url.port || "80";
  return `${url.hostname}:${port}`;
}

/**
 * Caddy JSON config, built as data. Pure functions only: the admin client sends what these return.
 *
 * Shape: apps.http.servers.kiln listens on the public port; its routes are one route per app
 * (`@id: kiln-app-<deploymentId>`), then, when pools are on, the one static route of every tenant
 * (`@id: kiln-tenants`, upstream looked up per host through Kiln's resolver), then a 404 fallback
 * (`@id: kiln-fallback`). With Kiln's API address, a route in front (`@id: kiln-hooks`) sends
 * `/_kiln/hooks/*` on any host to the API's `/api/v1/hooks/*`.
 *
 * With TLS on (`internal` or `acme`), server `kiln` listens on the HTTPS port instead, with the same
 * routes, and server `kiln-http` on the public port answers every request with a 308 to https (Caddy
 * answers ACME HTTP challenges before any route, so issuance still works). Certificates are issued on
 * demand, at a name's first handshake, and only when Kiln's API answers 200 to the `ask` check.
 */
import type { AppRoute } from "../../core/ports/routes.ts";
import { KilnError } from "../../core/errors.ts";
import { isHostName } from "../../core/names.ts";
import { accessLogging } from "./access-log-json.ts";

export const SERVER_NAME = "kiln";
export const ROUTE_ID_PREFIX = "kiln-app-";
/** A removed app's route that still names its switched-out upstreams (see `drainRoute`). */
export const DRAIN_ID_PREFIX = "kiln-drain-";
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
/**
 * An app's load balancing. Round robin over its upstreams; a request whose dial fails, or an
 * idempotent one (RETRY_METHODS) whose connection was accepted but whose round trip failed, is tried
 * again on the next upstream every `interval` for up to `duration` (then 502/503).
 */
export const APP_TRY = { duration: "5s", interval: "100ms" };
export const RETRY_METHODS = ["GET", "HEAD", "OPTIONS"];
/** Passive health: one failed request (dial or round trip) takes an upstream out for this long. */
export const FAIL_DURATION = "3s";
export const MAX_UPSTREAMS = 32;
/** An app's own domains: at most this many hosts besides its default one. */
export const MAX_HOSTS = 100;
/** The plain-HTTP server when TLS is on: it only redirects to https. */
export const HTTP_SERVER_NAME = "kiln-http";
export const REDIRECT_ID = "kiln-https-redirect";
export const HOOKS_ID = "kiln-hooks";
/** Webhooks reach Kiln through Caddy here, on any host: `/_kiln/hooks/<id>` → the API's `/api/v1/hooks/<id>`. */
export const HOOKS_PUBLIC_PREFIX = "/_kiln/hooks/";
export const HOOKS_API_PREFIX = "/api/v1/hooks/";
/** Caddy asks here (`?domain=<name>`) before it gets a certificate for a name; 200 means go. */
export const TLS_ASK_PATH = "/api/v1/tls/ask";

/** Admin-API paths. */
export const ROUTES_PATH = `/config/apps/http/servers/${SERVER_NAME}/routes`;
export const idPath = (id: string) => `/id/${encodeURIComponent(id)}`;
/** Every static upstream Caddy knows, with its requests in flight: [{address, num_requests, fails}]. */
export const UPSTREAMS_PATH = "/reverse_proxy/upstreams";

export interface IngressOptions {
  /** Apps are served at <name>.<publicHost>. */
  publicHost: string;
  publicPort: number;
  /** Interface to bind the public port on; all interfaces when absent. */
  listenHost?: string;
  /** host:port of Kiln's tenant resolver (UDP); without it there is no tenants route. */
  tenantResolver?: string;
  /** HTTPS; absent or mode `off`: plain HTTP on publicPort only. */
  tls?: IngressTls;
  /** host:port of Kiln's API on loopback: the hooks route and the TLS `ask` check go there. */
  api?: string;
  /** host:port where Kiln reads the ingress server's access log (access-log-json.ts); no access log when absent. */
  accessLog?: string;
}

export interface IngressTls {
  /** `internal`: Caddy's own CA; `acme`: a public CA (Let's Encrypt unless `acmeCa`). */
  mode: "off" | "internal" | "acme";
  httpsPort: number;
  acmeEmail?: string;
  /** ACME directory URL. */
  acmeCa?: string;
}

export const tlsOn = (opts: IngressOptions): boolean => !!opts.tls && opts.tls.mode !== "off";

/** Where the route table inserts a new app route: after the hooks route when there is one, else first. */
export const firstAppIndex = (opts: IngressOptions): number => (opts.api ? 1 : 0);

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
/** A path and query with no spaces, braces (Caddy placeholders) or fragments. */
const HEALTH_PATH_RE = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]{0,255}$/;

/** Reject routes that would break Caddy's matchers or address another route's path. */
export function validateRoute(route: AppRoute): void {
  const bad = (what: string) =>
    new KilnError("internal", `cannot route ${what}`, "this is a bug in Kiln: routes are built from validated deployments");
  if (!ID_RE.test(route.deploymentId)) throw bad(`deployment id ${JSON.stringify(route.deploymentId)}`);
  if (!isHostName(route.name)) throw bad(`name ${JSON.stringify(route.name)} (not DNS labels)`);
  const ups: unknown = route.upstreams;
  if (!Array.isArray(ups) || ups.length === 0) throw bad(`${route.deploymentId} without upstreams (want 1–${MAX_UPSTREAMS} host:port)`);
  if (ups.length > MAX_UPSTREAMS) throw bad(`${route.deploymentId} to ${ups.length} upstreams (at most ${MAX_UPSTREAMS})`);
  for (const u of ups) if (typeof u !== "string" || !UPSTREAM_RE.test(u)) throw bad(`upstream ${JSON.stringify(u)} (want host:port)`);
  if (new Set(ups).size !== ups.length) throw bad(`${route.deploymentId} to the same upstream twice (${JSON.stringify(ups)})`);
  if (route.health) validateHealth(route.health, bad);
  const hosts: unknown = route.hosts ?? [];
  if (!Array.isArray(hosts) || hosts.length > MAX_HOSTS) throw bad(`${route.deploymentId} with hosts ${JSON.stringify(hosts)} (want at most ${MAX_HOSTS})`);
  for (const h of hosts) if (typeof h !== "string" || h !== h.toLowerCase() || !isHostName(h)) throw bad(`host ${JSON.stringify(h)} (want a lowercase DNS name)`);
}

function validateHealth(h: NonNullable<AppRoute["health"]>, bad: (what: string) => KilnError): void {
  if (typeof h.path !== "string" || !HEALTH_PATH_RE.test(h.path)) throw bad(`health path ${JSON.stringify(h.path)} (want /…)`);
  for (const [k, v] of [["intervalMs", h.intervalMs], ["timeoutMs", h.timeoutMs]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 3_600_000) throw bad(`health ${k} ${JSON.stringify(v)} (want 1–3600000)`);
  }
  if (h.expectStatus !== undefined && (!Number.isInteger(h.expectStatus) || h.expectStatus < 100 || h.expectStatus > 599)) {
    throw bad(`health expectStatus ${JSON.stringify(h.expectStatus)} (want 100–599)`);
  }
}

/** `:<port>` or `<host>:<port>`, as Caddy's `listen` wants it. */
export function listenAddress(opts: IngressOptions, port = opts.publicPort): string {
  const host = opts.listenHost ?? "";
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** `host:port` to reach a server bound to `host` from this machine: a wildcard bind is reached on loopback. */
export function loopbackAddress(host: string, port: number): string {
  const h = host === "" || host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host.replace(/^\[|\]$/g, "");
  return `${h.includes(":") ? `[${h}]` : h}:${port}`;
}

/** A matcher set that matches no request. */
export const NEVER = { expression: "false" };

/**
 * Upstreams switched out of a route but maybe still serving requests. Caddy forgets an upstream
 * (and drops it from GET /reverse_proxy/upstreams) the moment no loaded config names it, even while
 * requests to it are in flight; naming it in a handler that matches nothing keeps its count visible.
 */
function drainHandler(draining: string[]): Record<string, unknown> {
  return { handler: "reverse_proxy", upstreams: draining.map((dial) => ({ dial })), transport: { protocol: "http", dial_timeout: DIAL_TIMEOUT } };
}

/** A removed app's stand-in until its switched-out upstreams are idle: matches nothing, is not an app route. */
export function drainRoute(deploymentId: string, draining: string[]): CaddyRoute {
  return { "@id": DRAIN_ID_PREFIX + deploymentId, match: [NEVER], handle: [drainHandler(draining)] };
}

/** The dial addresses of an app route as Caddy holds it (its first proxy's upstreams), [] when unknown. */
export function upstreamsOf(route: unknown): string[] {
  try {
    const sub = (route as { handle: { routes: { handle: { handler: string; upstreams?: { dial?: unknown }[] }[] }[] }[] }).handle[0]!.routes[0]!;
    const proxy = sub.handle.find((h) => h.handler === "reverse_proxy");
    return (proxy?.upstreams ?? []).map((u) => u.dial).filter((d): d is string => typeof d === "string");
  } catch {
    return [];
  }
}

export function pathPrefix(deploymentId: string): string {
  return `/d/${deploymentId}`;
}

/** Caddy's health_checks for an app: always passive; active when the route asks for it. */
export function healthChecks(health: AppRoute["health"]): Record<string, unknown> {
  const passive = { fail_duration: FAIL_DURATION, max_fails: 1 };
  if (!health) return { passive };
  return {
    passive,
    active: {
      uri: health.path,
      interval: `${health.intervalMs}ms`,
      timeout: `${health.timeoutMs}ms`,
      ...(health.expectStatus !== undefined ? { expect_status: health.expectStatus } : {}),
    },
  };
}

function reverseProxy(route: AppRoute, extraRequestHeaders?: Record<string, string[]>): Record<string, unknown> {
  // Caddy sets X-Forwarded-For/-Proto/-Host itself.
  return {
    handler: "reverse_proxy",
    upstreams: route.upstreams.map((dial) => ({ dial })),
    load_balancing: {
      selection_policy: { policy: "round_robin" },
      try_duration: APP_TRY.duration,
      try_interval: APP_TRY.interval,
      retry_match: [{ method: RETRY_METHODS }],
    },
    health_checks: healthChecks(route.health),
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
export function appRoute(route: AppRoute, publicHost: string, draining: string[] = []): CaddyRoute {
  validateRoute(route);
  const drain = draining.filter((u) => !route.upstreams.includes(u));
  const hosts = [`${route.name}.${publicHost}`.toLowerCase(), ...(route.hosts ?? [])];
  const prefix = pathPrefix(route.deploymentId);
  const paths = [prefix, `${prefix}/*`];
  return {
    "@id": routeId(route.deploymentId),
    match: [{ host: hosts }, { host: [publicHost.toLowerCase()], path: paths }],
    handle: [
      {
        handler: "subroute",
        routes: [
          { match: [{ host: hosts }], handle: [reverseProxy(route)], terminal: true },
          {
            handle: [
              { handler: "rewrite", strip_path_prefix: prefix },
              reverseProxy(route, { "X-Forwarded-Prefix": [prefix] }),
            ],
            terminal: true,
          },
          ...(drain.length ? [{ match: [NEVER], handle: [drainHandler(drain)] }] : []),
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

/** `/_kiln/hooks/*` on any host, proxied to Kiln's API as `/api/v1/hooks/*` (query kept). */
export function hooksRoute(api: string): CaddyRoute {
  return {
    "@id": HOOKS_ID,
    match: [{ path: [`${HOOKS_PUBLIC_PREFIX}*`] }],
    handle: [
      { handler: "rewrite", path_regexp: [{ find: `^${HOOKS_PUBLIC_PREFIX}`, replace: HOOKS_API_PREFIX }] },
      { handler: "reverse_proxy", upstreams: [{ dial: api }], transport: { protocol: "http", dial_timeout: DIAL_TIMEOUT } },
    ],
    terminal: true,
  };
}

/** Every plain-HTTP request, to the same host (without its port), path and query over https. */
export function redirectRoute(httpsPort: number): CaddyRoute {
  const port = httpsPort === 443 ? "" : `:${httpsPort}`;
  return {
    "@id": REDIRECT_ID,
    handle: [{ handler: "static_response", status_code: 308, headers: { Location: [`https://{http.request.host}${port}{http.request.uri}`] } }],
  };
}

/** The plain-HTTP server when TLS is on: nothing but the redirect. */
export function redirectServer(opts: IngressOptions & { tls: IngressTls }): Record<string, unknown> {
  return { listen: [listenAddress(opts)], routes: [redirectRoute(opts.tls.httpsPort)], automatic_https: { disable: true } };
}

/**
 * The tls app: one on-demand policy (Caddy's internal CA, or ACME with the account email and the
 * CA's directory), gated by the `ask` check on Kiln's API. Challenges are answered on the ports
 * Caddy serves (the CA itself connects to 80 and 443: forward those to them).
 */
export function tlsApp(opts: IngressOptions & { tls: IngressTls; api: string }): Record<string, unknown> {
  const { tls } = opts;
  const issuer =
    tls.mode === "internal"
      ? { module: "internal" }
      : {
          module: "acme",
          ...(tls.acmeCa ? { ca: tls.acmeCa } : {}),
          ...(tls.acmeEmail ? { email: tls.acmeEmail } : {}),
          challenges: { http: { alternate_port: opts.publicPort }, "tls-alpn": { alternate_port: tls.httpsPort } },
        };
  return {
    automation: {
      policies: [{ issuers: [issuer], on_demand: true }],
      on_demand: { ask: `http://${opts.api}${TLS_ASK_PATH}` },
    },
  };
}

/**
 * The ingress server: the hooks route (with an API address), app routes (last one given per
 * deployment id wins), then drain routes of deployments in `draining` without an app route, then the
 * fallback. On the HTTPS port with TLS on, else on the public port.
 */
export function ingressServer(opts: IngressOptions, routes: AppRoute[], draining: Map<string, string[]> = new Map()): Record<string, unknown> {
  const byId = new Map<string, AppRoute>();
  for (const r of routes) byId.set(r.deploymentId, r);
  const tenants = opts.tenantResolver ? [tenantsRoute(opts.publicHost, opts.tenantResolver)] : [];
  const apps = [...byId.values()].map((r) => appRoute(r, opts.publicHost, draining.get(r.deploymentId)));
  const drains = [...draining].filter(([id, ups]) => !byId.has(id) && ups.length > 0).map(([id, ups]) => drainRoute(id, ups));
  const hooks = opts.api ? [hooksRoute(opts.api)] : [];
  const https = tlsOn(opts);
  return {
    listen: [listenAddress(opts, https ? opts.tls!.httpsPort : opts.publicPort)],
    routes: [...hooks, ...apps, ...drains, ...tenants, fallbackRoute()],
    ...(opts.tenantResolver ? { errors: { routes: [tenantErrorRoute(opts.publicHost)] } } : {}),
    ...(https ? { tls_connection_policies: [{}] } : {}),
    ...(opts.accessLog ? { logs: {} } : {}),
    // Certificates come from the tls app's on-demand policy only, never from the routes' host names.
    automatic_https: { disable: true },
  };
}

/** The apps Kiln loads: http (one or two servers), and with TLS on, tls (and pki: never touch the system's trust store). */
export function ingressApps(opts: IngressOptions, routes: AppRoute[], draining?: Map<string, string[]>): Record<string, unknown> {
  const servers: Record<string, unknown> = { [SERVER_NAME]: ingressServer(opts, routes, draining) };
  if (!tlsOn(opts)) return { http: { servers } };
  const tls = opts.tls!;
  if (!opts.api) throw new KilnError("internal", "TLS needs Kiln's API address for the ask check", "this is a bug in Kiln: main.ts passes it");
  if (tls.httpsPort === opts.publicPort) {
    throw new KilnError("bad_request", `KILN_HTTPS_PORT and KILN_PUBLIC_PORT are both ${tls.httpsPort}`, "with KILN_TLS on, HTTPS and the plain-HTTP redirect need a port each (e.g. 443 and 80)");
  }
  servers[HTTP_SERVER_NAME] = redirectServer({ ...opts, tls });
  return {
    http: { servers },
    tls: tlsApp({ ...opts, tls, api: opts.api }),
    ...(tls.mode === "internal" ? { pki: { certificate_authorities: { local: { install_trust: false } } } } : {}),
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
export function kilnConfig(adminListen: string, opts: IngressOptions, routes: AppRoute[], draining?: Map<string, string[]>): CaddyConfig {
  return {
    admin: adminBlock(adminListen),
    ...(opts.accessLog ? { logging: accessLogging(opts.accessLog) } : {}),
    apps: ingressApps(opts, routes, draining),
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

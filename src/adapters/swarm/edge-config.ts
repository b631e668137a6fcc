/**
 * The edge Caddy's config, built as data (pure). The edge is a Caddy container on every Swarm app's
 * overlay network, published on 127.0.0.1 only; the host's Caddy sends a Swarm app's requests there
 * (Host header kept; for `/d/<id>` it sets X-Forwarded-Prefix). Per app, one route: its hosts, or the
 * public host with its prefix header, proxied to `tasks.<service>` looked up in Swarm's DNS (A
 * records, refreshed every second), so the upstreams follow the service's healthy tasks with no
 * config change on a redeploy, a rollback or a scale. A task gone between two lookups is retried on
 * another (dial failures always, idempotent requests after a failed round trip), as the host's
 * Caddy does for containers. The admin API listens on a unix socket in a directory only the host's
 * root reaches: nothing on the overlay can reconfigure the edge.
 */
import { APP_TRY, DIAL_TIMEOUT, FAIL_DURATION, RETRY_METHODS, pathPrefix } from "../caddy/route-json.ts";
import { tasksName } from "./service-spec.ts";

/** Where the edge's admin socket and config file live inside its container (a bind of $KILN_DATA_DIR/swarm-edge). */
export const EDGE_DIR = "/run/kiln-edge";
export const EDGE_ADMIN_SOCKET = "admin.sock";
export const EDGE_CONFIG_FILE = "caddy.json";
/** The Host the admin API accepts (its `origins`): requests over the socket name it. */
export const EDGE_ADMIN_ORIGIN = "kiln-edge";
/** The port the edge listens on inside its container. */
export const EDGE_PORT = 8080;
/** How long a looked-up task list is reused. */
export const EDGE_REFRESH = "1s";
export const EDGE_FALLBACK_BODY = "no Swarm service answers for this address\n";
/** The private ranges requests reach the edge from (the host's Caddy through the bridge's gateway). */
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"];

/** One Swarm app as the edge serves it. */
export interface EdgeApp {
  deploymentId: string;
  /** Every host the app answers on: <name>.<publicHost> and its domains. */
  hosts: string[];
  service: string;
  port: number;
}

export function edgeRoute(app: EdgeApp, publicHost: string): Record<string, unknown> {
  return {
    "@id": `kiln-edge-${app.deploymentId}`,
    match: [{ host: app.hosts }, { host: [publicHost.toLowerCase()], header: { "X-Forwarded-Prefix": [pathPrefix(app.deploymentId)] } }],
    handle: [
      {
        handler: "reverse_proxy",
        dynamic_upstreams: { source: "a", name: tasksName(app.service), port: String(app.port), refresh: EDGE_REFRESH },
        load_balancing: {
          selection_policy: { policy: "round_robin" },
          try_duration: APP_TRY.duration,
          try_interval: APP_TRY.interval,
          retry_match: [{ method: RETRY_METHODS }],
        },
        health_checks: { passive: { fail_duration: FAIL_DURATION, max_fails: 1 } },
        transport: { protocol: "http", dial_timeout: DIAL_TIMEOUT },
        trusted_proxies: PRIVATE,
      },
    ],
    terminal: true,
  };
}

export function edgeConfig(apps: EdgeApp[], publicHost: string): Record<string, unknown> {
  return {
    admin: { listen: `unix/${EDGE_DIR}/${EDGE_ADMIN_SOCKET}`, origins: [EDGE_ADMIN_ORIGIN], config: { persist: false } },
    apps: {
      http: {
        servers: {
          edge: {
            listen: [`:${EDGE_PORT}`],
            routes: [...apps.map((a) => edgeRoute(a, publicHost)), { handle: [{ handler: "static_response", status_code: 502, body: EDGE_FALLBACK_BODY }] }],
            automatic_https: { disable: true },
          },
        },
      },
    },
  };
}

/** `tasks.<service>:<port>`, the upstream a Swarm app's instance carries, back to its parts; null for any other. */
export function parseTasksUpstream(upstream: string): { service: string; port: number } | null {
  const m = /^tasks\.([a-z0-9][a-z0-9-]{0,62}):(\d{1,5})$/.exec(upstream);
  return m ? { service: m[1]!, port: Number(m[2]) } : null;
}

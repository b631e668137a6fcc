/**
 * Metrics over HTTP: the middleware counting requests by route pattern, the scrape response, and
 * the token-free listener for KILN_METRICS_ADDR (only /metrics answers there).
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Counter, Registry } from "./registry.ts";
import { CONTENT_TYPE } from "./text.ts";
import { badRequest, errorMessage } from "../core/errors.ts";

/**
 * The pattern of the endpoint a request matched (`/api/v1/deployments/:id`), never its raw path:
 * ids would make a series per deployment. Middleware (method ALL) is skipped, so a request refused
 * by the token check still counts under the route it asked for; nothing matched: `unmatched`.
 */
export function routePattern(c: Context): string {
  return matchedRoutes(c).find((r) => r.method !== "ALL")?.path ?? "unmatched";
}

export function countRequests(counter: Counter<"route" | "status">): MiddlewareHandler {
  return async (c, next) => {
    await next();
    counter.inc({ route: routePattern(c), status: String(c.res.status) });
  };
}

export async function metricsResponse(registry: Registry): Promise<Response> {
  return new Response(await registry.render(), { headers: { "content-type": CONTENT_TYPE } });
}

/** KILN_METRICS_ADDR: GET /metrics without the token, on its own (loopback by default) address. */
export function serveMetrics(registry: Registry, addr: { host: string; port: number }): { url: string; stop(): void } {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: addr.host,
      port: addr.port,
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        if (path !== "/metrics") return new Response("only /metrics is served here\n", { status: 404 });
        if (req.method !== "GET" && req.method !== "HEAD") return new Response("GET /metrics\n", { status: 405, headers: { allow: "GET, HEAD" } });
        return metricsResponse(registry);
      },
    });
  } catch (err) {
    throw badRequest(`KILN_METRICS_ADDR: cannot listen on ${addr.host}:${addr.port}: ${errorMessage(err)}`, "pick a free port, or unset KILN_METRICS_ADDR");
  }
  const host = addr.host.includes(":") && !addr.host.startsWith("[") ? `[${addr.host}]` : addr.host;
  return { url: `http://${host}:${server.port}/metrics`, stop: () => server.stop(true) };
}

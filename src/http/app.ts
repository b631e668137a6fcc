/** The HTTP surface: /api/v1 (JSON + WebSocket logs) and the generated OpenAPI document. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { createRoute } from "@hono/zod-openapi";
import { requireToken } from "./auth.ts";
import { bodyLimits } from "./body-limit.ts";
import { errorResponse, validationHook } from "./errors.ts";
import { deploymentRoutes, type DeploymentRoutesDeps } from "./routes/deployments.ts";
import { appConfigRoutes } from "./routes/app-config.ts";
import { PREVIEW_UPLOAD_PATH, previewRoutes, type PreviewRoutesDeps } from "./routes/previews.ts";
import { logRoutes, type LogSubscriber } from "./logs-ws.ts";
import { logSearchRoutes, type LogSearchDeps } from "./routes/log-search.ts";
import { logStorageRoutes, type LogStorageDeps } from "./routes/log-storage.ts";
import { statsRoutes, type StatsRoutesDeps } from "./routes/stats.ts";
import { ErrorBody, Health } from "./schemas.ts";
import { tenantRoutes, type TenantRoutesDeps } from "./routes/tenants.ts";
import { hookRoutes, isHookReceiverPath, type HookRoutesDeps } from "./routes/hooks.ts";
import { domainRoutes, TLS_PUBLIC_PATHS } from "./routes/domains.ts";
import type { DomainService } from "../domains/domain-service.ts";
import { notFound } from "../core/errors.ts";
import { dashboardRoutes } from "./dashboard.ts";
import type { HealthReport } from "./health.ts";
import { z } from "@hono/zod-openapi";
import { countRequests } from "../metrics/http.ts";
import { CONTENT_TYPE as METRICS_CONTENT_TYPE } from "../metrics/text.ts";
import type { Counter, Registry } from "../metrics/registry.ts";

export const API_VERSION = "0.1.0";

export interface HttpDeps extends DeploymentRoutesDeps, PreviewRoutesDeps {
  token: string;
  /** Body cap of every route but the upload (KILN_MAX_JSON_KB). */
  maxJsonBytes: number;
  bus: LogSubscriber;
  /** The stored log, searched by GET /deployments/:id/logs (routes/log-search.ts). */
  logs: LogSearchDeps["logs"];
  /** Hot and cold log storage, GET /deployments/:id/logs/storage (routes/log-storage.ts); absent: no such route. */
  logStorage?: Omit<LogStorageDeps, "service">;
  pools: TenantRoutesDeps;
  tenantStream: (tenantId: string, workloadId: string) => Promise<string>;
  /** Docker, Caddy and the tenant resolver: probed, cached briefly (http/health.ts). */
  health: () => Promise<HealthReport>;
  /** The built dashboard (default: the one embedded in the binary, else the repository's web/dist). */
  webDir?: string;
  /** Deploy on push (routes/hooks.ts); absent: no webhook routes. */
  hooks?: HookRoutesDeps;
  /** Domains and TLS (routes/domains.ts); absent: no domain routes. */
  domains?: DomainService;
  /** Prometheus metrics (src/metrics/): requests counted by route pattern, GET /api/v1/metrics; absent: neither. */
  metrics?: { registry: Registry; httpRequests: Counter<"route" | "status"> };
  /** Per-app samples (src/stats/), GET /deployments/:id/stats; absent: no stats route. */
  stats?: StatsRoutesDeps["stats"];
}

export function createHttpApp(deps: HttpDeps) {
  const api = new OpenAPIHono({ defaultHook: validationHook });
  api.onError((err, c) => errorResponse(c, err));
  const tokenCheck = requireToken(deps.token, ["/api/v1/health", "/api/v1/openapi.json", ...TLS_PUBLIC_PATHS]);
  // A webhook receiver (exactly /api/v1/hooks/<id>) carries its own secret instead of the API token.
  api.use("*", (c, next) => (deps.hooks && isHookReceiverPath(c.req.path) ? next() : tokenCheck(c, next)));
  api.openapi(
    createRoute({
      method: "get",
      path: "/health",
      summary: "200 when Docker, Caddy's admin API and the tenant resolver all answer; 503 naming each one down, with a hint (no auth)",
      responses: {
        200: { description: "all dependencies answer", content: { "application/json": { schema: Health } } },
        503: { description: "at least one dependency does not answer", content: { "application/json": { schema: Health } } },
      },
    }),
    async (c) => {
      const { ok, ...states } = await deps.health();
      const body = { ok, version: API_VERSION, ...states };
      return ok ? c.json(body, 200) : c.json(body, 503);
    },
  );
  if (deps.metrics) {
    const registry = deps.metrics.registry;
    api.openapi(
      createRoute({
        method: "get",
        path: "/metrics",
        summary: "Prometheus metrics, text format 0.0.4 (token-free on KILN_METRICS_ADDR when set)",
        responses: {
          200: { description: "the metrics", content: { "text/plain": { schema: z.string() } } },
          401: { description: "missing or wrong token", content: { "application/json": { schema: ErrorBody } } },
        },
      }),
      async (c) => c.text(await registry.render(), 200, { "content-type": METRICS_CONTENT_TYPE }),
    );
  }
  api.route("/", deploymentRoutes(deps));
  api.route("/", appConfigRoutes(deps));
  api.route("/", previewRoutes(deps));
  api.route("/", logSearchRoutes({ service: deps.service, logs: deps.logs })); // before logRoutes: it passes WebSocket upgrades on
  if (deps.logStorage) api.route("/", logStorageRoutes({ service: deps.service, ...deps.logStorage }));
  api.route("/", logRoutes({ service: deps.service, bus: deps.bus, tenantStream: deps.tenantStream }));
  api.route("/", tenantRoutes(deps.pools));
  if (deps.stats) api.route("/", statsRoutes({ service: deps.service, stats: deps.stats }));
  if (deps.hooks) api.route("/", hookRoutes(deps.hooks));
  if (deps.domains) api.route("/", domainRoutes(deps.domains));
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Kiln API", version: API_VERSION, description: "Deployments: Git URL or tarball → image → container → URL. WebSocket logs at /api/v1/deployments/{id}/logs?since=<seq>&token=<token>." },
    servers: [{ url: "/api/v1" }],
    security: [{ bearer: [] }],
  });

  const app = new OpenAPIHono();
  if (deps.metrics) app.use("*", countRequests(deps.metrics.httpRequests));
  // Every route takes a small (JSON) body but the upload, which streams under the upload cap (upload.ts).
  app.use("*", bodyLimits(deps.maxJsonBytes, ["/api/v1/deployments/upload", PREVIEW_UPLOAD_PATH]));
  app.route("/api/v1", api);
  app.route("/", dashboardRoutes(deps.webDir));
  app.notFound((c) => errorResponse(c, notFound(`no route ${c.req.method} ${c.req.path}`, "the API lives under /api/v1; see /api/v1/openapi.json")));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}

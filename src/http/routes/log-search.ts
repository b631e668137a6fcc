/**
 * GET /api/v1/deployments/:id/logs without `Upgrade: websocket`: a search of the stored log
 * (src/logs/search-query.ts says what each parameter takes). With the upgrade header the request
 * passes on to the WebSocket stream on the same path (logs-ws.ts), so this must be mounted first.
 * Lines still in the bus's memory (at most its flush interval, 200 ms) are not searched yet.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { LogArchive } from "../../core/ports/store.ts";
import type { DeploymentService } from "../../deploy/service.ts";
import { parseLogSearch } from "../../logs/search-query.ts";
import { deploymentStream } from "../../logs/streams.ts";
import { ErrorBody } from "../schemas.ts";
import { LogSearchPage, LogSearchParams, LogSearchQuery } from "../schemas-logs.ts";

export interface LogSearchDeps {
  service: DeploymentService;
  logs: Pick<LogArchive, "search">;
}

const PATH = "/deployments/:id/logs";

export function logSearchRoutes(d: LogSearchDeps) {
  const app = new OpenAPIHono();
  const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/deployments/{id}/logs",
    summary: "Search a deployment's stored log: newest first, a page at a time (with Upgrade: websocket, the live stream instead)",
    request: { params: LogSearchParams, query: LogSearchQuery },
    responses: {
      200: { description: "one page of matching lines", content: { "application/json": { schema: LogSearchPage } } },
      400: error("a parameter is invalid; the message names it"),
      401: error("missing or wrong API token"),
      404: error("no such deployment"),
    },
  });
  app.get(PATH, async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") return next();
    const search = parseLogSearch(c.req.query());
    const deployment = await d.service.get(c.req.param("id"));
    return c.json(await d.logs.search(deploymentStream(deployment.id), search), 200);
  });
  return app;
}

/**
 * GET /api/v1/deployments/:id/stats: the last hour of an app's samples, every 10 s (src/stats/):
 * CPU, memory, network, requests by status class, latency. `?since=<ms>` returns only newer ones.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { KilnError } from "../../core/errors.ts";
import type { DeploymentService } from "../../deploy/service.ts";
import type { AppStatsSample } from "../../stats/sample.ts";
import { ErrorBody } from "../schemas.ts";
import { StatsParams, StatsQuery, StatsView } from "../schemas-stats.ts";

export interface StatsRoutesDeps {
  service: Pick<DeploymentService, "get">;
  /** Several Kilns: `series` adds the other Kilns' requests (cluster/request-stats.ts), hence a promise. */
  stats: { intervalSeconds: number; series(deploymentId: string): AppStatsSample[] | Promise<AppStatsSample[]> };
}

export function statsRoutes(d: StatsRoutesDeps) {
  const app = new OpenAPIHono();
  const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/deployments/{id}/stats",
    summary: "An app's CPU, memory, network, request rate by status class and latency: one sample every 10 s, the last hour",
    request: { params: StatsParams, query: StatsQuery },
    responses: {
      200: { description: "the samples, oldest first", content: { "application/json": { schema: StatsView } } },
      400: error("since is not a time in ms"),
      401: error("missing or wrong API token"),
      404: error("no such deployment"),
    },
  });
  app.get("/deployments/:id/stats", async (c) => {
    const since = parseSince(c.req.query("since"));
    const deployment = await d.service.get(c.req.param("id"));
    const samples = (await d.stats.series(deployment.id)).filter((s) => s.ts > since);
    return c.json({ intervalSeconds: d.stats.intervalSeconds, samples }, 200);
  });
  return app;
}

function parseSince(raw: string | undefined): number {
  if (raw === undefined) return -1;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new KilnError("bad_request", `since ${JSON.stringify(raw.slice(0, 40))} is not a time in ms`, "pass the ts of the last sample you have (digits, ms since the epoch), or leave since out for the whole hour");
  }
  return Number(raw);
}

/**
 * GET /api/v1/deployments/:id/logs/storage: where a deployment's stored log lives — hot (chunks in
 * the database) and cold (segments offloaded to S3, src/logs/offload.ts), lines, bytes and seq
 * spans of each, and the offload target. What retention removed is gone from both counts (and
 * told on the stream).
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { LogStorage } from "../../core/ports/store.ts";
import type { DeploymentService } from "../../deploy/service.ts";
import { deploymentStream } from "../../logs/streams.ts";
import { validationHook } from "../errors.ts";
import { ErrorBody, IdParam } from "../schemas.ts";
import { LogStorageBody } from "../schemas-logs.ts";

export interface LogStorageDeps {
  service: DeploymentService;
  logs: { storage(stream: string): Promise<LogStorage> };
  /** The offload target and age, null when offload is off. */
  offload: { url: string; afterMs: number } | null;
}

export function logStorageRoutes(d: LogStorageDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });
  app.openapi(
    createRoute({
      method: "get",
      path: "/deployments/{id}/logs/storage",
      summary: "Where a deployment's stored log lives: lines and bytes in the database (hot) and offloaded to S3 (cold)",
      request: { params: IdParam },
      responses: {
        200: { description: "hot and cold storage of the log", content: { "application/json": { schema: LogStorageBody } } },
        400: error("the id is invalid; the message says why"),
        401: error("missing or wrong API token"),
        404: error("no such deployment"),
      },
    }),
    async (c) => {
      const deployment = await d.service.get(c.req.valid("param").id);
      const storage = await d.logs.storage(deploymentStream(deployment.id));
      const offload = d.offload ? { url: d.offload.url, afterHours: d.offload.afterMs / 3_600_000 } : { url: null, afterHours: null };
      return c.json({ offload, ...storage }, 200);
    },
  );
  return app;
}

/**
 * Log streams over WebSocket: replay from `since`, then the live tail. Each message is one JSON
 * LogLine {seq, ts, stream, text}; the bus guarantees no gap and no duplicate across the seam.
 *   WS /api/v1/deployments/:id/logs?since=<seq>
 *   WS /api/v1/tenants/:tenantId/logs?workload=<id>&since=<seq>   (claims, releases, rclone progress)
 */
import { Hono, type Context } from "hono";
import { upgradeWebSocket } from "hono/bun";
import type { LogLine } from "../core/logs.ts";
import type { DeploymentService } from "../deploy/service.ts";
import { badRequest } from "../core/errors.ts";
import { deploymentStream, type StreamKey } from "../logs/streams.ts";

export interface LogSubscriber {
  subscribe(streamKey: string, sinceSeq: number, onLine: (line: LogLine) => void): Promise<() => void>;
}

export interface LogRoutesDeps {
  service: DeploymentService;
  bus: LogSubscriber;
  /** The stream key of a tenant's log; throws not_found for an unknown tenant or workload. */
  tenantStream: (tenantId: string, workloadId: string) => Promise<StreamKey>;
}

export function logRoutes(d: LogRoutesDeps) {
  const app = new Hono();
  const stream = (resolve: (c: Context) => Promise<StreamKey>) => [
    async (c: Context, next: () => Promise<void>) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw badRequest("this endpoint speaks WebSocket", "connect with a WebSocket client, e.g. `kiln logs -f <name>`");
      }
      const since = c.req.query("since");
      if (since !== undefined && !/^\d{1,15}$/.test(since)) throw badRequest("since must be a non-negative integer seq");
      await resolve(c); // 404 before upgrading
      return next();
    },
    upgradeWebSocket(async (c) => {
      const key = await resolve(c);
      const since = Number(c.req.query("since") ?? "1");
      let unsubscribe: (() => void) | null = null;
      let closed = false;
      return {
        async onOpen(_evt, ws) {
          const unsub = await d.bus.subscribe(key, Math.max(1, since), (line) => {
            if (!closed) ws.send(JSON.stringify(line));
          });
          if (closed) unsub();
          else unsubscribe = unsub;
        },
        onClose() {
          closed = true;
          unsubscribe?.();
        },
      };
    }),
  ] as const;

  app.get("/deployments/:id/logs", ...stream(async (c) => deploymentStream((await d.service.get(c.req.param("id") ?? "")).id)));
  app.get(
    "/tenants/:tenantId/logs",
    ...stream(async (c) => {
      const workload = c.req.query("workload");
      if (!workload) throw badRequest("workload is required", "add ?workload=<id>");
      return d.tenantStream(c.req.param("tenantId") ?? "", workload);
    }),
  );
  return app;
}


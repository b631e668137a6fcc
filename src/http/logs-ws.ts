/**
 * WS /api/v1/deployments/:id/logs?since=<seq>: replay from `since`, then the live tail.
 * Each message is one JSON LogLine {seq, ts, stream, text}. The bus guarantees no gap and no
 * duplicate across the replay/live seam.
 */
import { Hono } from "hono";
import { upgradeWebSocket } from "hono/bun";
import type { LogLine } from "../core/logs.ts";
import type { DeploymentService } from "../deploy/service.ts";
import { badRequest } from "../core/errors.ts";

export interface LogSubscriber {
  subscribe(deploymentId: string, sinceSeq: number, onLine: (line: LogLine) => void): Promise<() => void>;
}

export function logRoutes(service: DeploymentService, bus: LogSubscriber) {
  const app = new Hono();
  app.get(
    "/deployments/:id/logs",
    async (c, next) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw badRequest("this endpoint speaks WebSocket", "connect with a WebSocket client, e.g. `kiln logs -f <name>`");
      }
      const since = c.req.query("since");
      if (since !== undefined && !/^\d{1,15}$/.test(since)) throw badRequest("since must be a non-negative integer seq");
      await service.get(c.req.param("id")); // 404 before upgrading
      return next();
    },
    upgradeWebSocket(async (c) => {
      const d = await service.get(c.req.param("id") ?? "");
      const since = Number(c.req.query("since") ?? "1");
      let unsubscribe: (() => void) | null = null;
      let closed = false;
      return {
        async onOpen(_evt, ws) {
          const unsub = await bus.subscribe(d.id, Math.max(1, since), (line) => {
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
  );
  return app;
}

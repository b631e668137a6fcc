/**
 * Log streams over WebSocket: replay from `since`, then the live tail; the bus guarantees no gap
 * and no duplicate across the seam.
 *   WS /api/v1/deployments/:id/logs?since=<seq>&v=2
 *   WS /api/v1/tenants/:tenantId/logs?workload=<id>&since=<seq>&v=2   (claims, releases, rclone progress)
 * v=2 speaks frames (./log-frames.ts): batched lines, a `replayed` marker, a `cut` for a reader
 * that falls behind. Without `v` (version 1) each message is one bare LogLine, as before.
 * Either way a reader that falls behind is closed (./log-sender.ts) rather than buffered without end.
 * A v2 reader that reaches the live tail joins its stream's pub/sub topic (./log-topic.ts): each
 * live frame is then published once and written to every such reader by Bun, not sent per socket.
 */
import { Hono, type Context } from "hono";
import { getBunServer, upgradeWebSocket } from "hono/bun";
import type { ServerWebSocket } from "bun";
import type { LogLine } from "../core/logs.ts";
import type { DeploymentService } from "../deploy/service.ts";
import { badRequest } from "../core/errors.ts";
import { deploymentStream, type StreamKey } from "../logs/streams.ts";
import { LogFanout } from "./log-fanout.ts";
import { LOG_SENDER_DEFAULTS, LogSender, type LogSenderOptions } from "./log-sender.ts";
import { LogTopics, TOPIC_MAX_QUEUED_BYTES, type TopicServer, type TopicSocket } from "./log-topic.ts";

export interface LogSubscriber {
  /** As LogBus.subscribe: an aborted `signal` cuts the replay short. */
  subscribe(streamKey: string, sinceSeq: number, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<() => void>;
}

export interface LogRoutesDeps {
  service: DeploymentService;
  bus: LogSubscriber;
  /** The stream key of a tenant's log; throws not_found for an unknown tenant or workload. */
  tenantStream: (tenantId: string, workloadId: string) => Promise<StreamKey>;
  /** Batch and slow-reader bounds (defaults: LOG_SENDER_DEFAULTS); `topics: false` sends every frame per socket. */
  sender?: Pick<LogSenderOptions, "maxBatchBytes" | "maxQueuedBytes"> & { flushMs?: number; topics?: boolean };
}

/** Waits until the socket has sent most of what it holds; false if it closed meanwhile. */
async function drained(ws: ServerWebSocket<unknown>, closed: () => boolean): Promise<boolean> {
  // Hono's Bun adapter does not pass Bun's `drain` event on, so poll the queue: a few ms per check.
  while (!closed() && ws.getBufferedAmount() > 256 * 1024) await Bun.sleep(5);
  return !closed();
}

export function logRoutes(d: LogRoutesDeps) {
  const app = new Hono();
  const fanout = new LogFanout(d.sender?.flushMs);
  const bounds = {
    maxBatchBytes: d.sender?.maxBatchBytes ?? LOG_SENDER_DEFAULTS.maxBatchBytes,
    maxQueuedBytes: d.sender?.maxQueuedBytes ?? LOG_SENDER_DEFAULTS.maxQueuedBytes,
  };
  // Topics only while a member cut at the bound stays well under the point where Bun drops frames.
  const useTopics = d.sender?.topics !== false && bounds.maxQueuedBytes <= TOPIC_MAX_QUEUED_BYTES;
  let topics: LogTopics | null = null;
  const topicsOf = (server: TopicServer | undefined): LogTopics | null => {
    if (!useTopics || typeof server?.publish !== "function") return null;
    topics ??= new LogTopics(server, (key) => (since, onLine) => d.bus.subscribe(key, since, onLine), fanout, bounds);
    return topics;
  };
  const stream = (resolve: (c: Context) => Promise<StreamKey>) => [
    async (c: Context, next: () => Promise<void>) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw badRequest("this endpoint speaks WebSocket", "connect with a WebSocket client, e.g. `kiln logs -f <name>`");
      }
      const since = c.req.query("since");
      if (since !== undefined && !/^\d{1,15}$/.test(since)) throw badRequest("since must be a non-negative integer seq");
      const v = c.req.query("v");
      if (v !== undefined && v !== "1" && v !== "2") throw badRequest(`log protocol v=${v} is not spoken here`, "use v=2 (frames) or leave v out (one line per message)");
      await resolve(c); // 404 before upgrading
      return next();
    },
    upgradeWebSocket(async (c) => {
      const key = await resolve(c);
      const since = Math.max(1, Number(c.req.query("since") ?? "1"));
      const version = c.req.query("v") === "2" ? 2 : 1;
      const liveTopics = version === 2 ? topicsOf(getBunServer<TopicServer>(c)) : null;
      let unsubscribe: (() => void) | null = null;
      let sender: LogSender | null = null;
      let closed = false;
      const stop = () => {
        sender?.stop();
        unsubscribe?.();
        unsubscribe = null;
      };
      /** Live: hand the socket over from its own bus subscription to the stream's topic, seq-exact. */
      const joinTopic = async (topics: LogTopics, raw: ServerWebSocket<unknown>, s: LogSender) => {
        const topic = await topics.acquire(key, s.nextSeq).catch(() => null); // no topic: it stays per socket
        if (!topic) return;
        if (closed || s.done) return topic.release();
        s.flush(); // everything taken so far goes out per socket: the topic takes over after it
        if (s.done) {
          topic.release();
          return stop();
        }
        const socket: TopicSocket = {
          send: (data) => raw.send(data),
          queuedBytes: () => raw.getBufferedAmount(),
          close: (code, reason) => raw.close(code, reason),
          subscribe: (t) => raw.subscribe(t),
          unsubscribe: (t) => raw.unsubscribe(t),
        };
        if (!topic.join(socket, s.nextSeq - 1)) return topic.release(); // stays per socket
        stop(); // the sender and its bus subscription
        unsubscribe = () => topic.release(socket);
      };
      return {
        async onOpen(_evt, ws) {
          const raw = ws.raw as ServerWebSocket<unknown>;
          sender = new LogSender(
            { send: (data) => raw.send(data), queuedBytes: () => raw.getBufferedAmount(), close: (code, reason) => raw.close(code, reason) },
            { ...d.sender, version, after: since - 1, stream: key, fanout },
          );
          const s = sender;
          // Replay at the reader's pace: subscribe, and while the replay outruns the socket,
          // stop, wait for it to drain, and subscribe again from the first unsent seq.
          for (;;) {
            const stalled = new AbortController();
            const unsub = await d.bus.subscribe(
              key,
              s.nextSeq,
              (line) => {
                s.line(line);
                if (s.stalled) stalled.abort();
              },
              stalled.signal,
            );
            unsubscribe = unsub;
            if (closed || s.done) return stop();
            s.replayed();
            if (!s.stalled) break;
            unsub();
            unsubscribe = null;
            if (!(await drained(raw, () => closed))) return stop();
            s.resume();
          }
          if (s.done) return stop();
          if (liveTopics) await joinTopic(liveTopics, raw, s);
        },
        onClose() {
          closed = true;
          stop();
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

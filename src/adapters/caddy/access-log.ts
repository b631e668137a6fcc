/**
 * Caddy's access log, delivered to Kiln: Caddy's `net` log writer connects to this loopback TCP
 * listener and writes one JSON object per request (see `accessLogging` in route-json.ts for the
 * config). Each line becomes an AccessEntry for `onEntry`; other lines are skipped. A line longer
 * than MAX_LINE is dropped (its connection's buffer is bounded).
 *
 * Why the log and not Caddy's /metrics: Caddy 2.6 labels its HTTP metrics by server and handler
 * only, so they cannot tell one app from another; its access log names each request's host and URI.
 */
import type { Socket, TCPSocketListener } from "bun";
import type { AccessEntry } from "../../stats/request-window.ts";

export const MAX_LINE = 64 * 1024;

export interface AccessLogListener {
  /** host:port for Caddy's `net` writer. */
  address: string;
  stop(): void;
}

/** Listen on 127.0.0.1 (a free port) for Caddy's access log lines. */
export function listenForAccessLog(onEntry: (e: AccessEntry) => void): AccessLogListener {
  type Conn = { buf: string; decoder: TextDecoder };
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s: Socket<Conn>) {
        s.data = { buf: "", decoder: new TextDecoder() };
      },
      data(s, chunk) {
        const buf = s.data.buf + s.data.decoder.decode(chunk, { stream: true });
        // Walk the lines by index: slicing the rest off after each line copied it once a request.
        let from = 0;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n", from)) {
          const entry = accessEntryOf(buf.slice(from, i));
          from = i + 1;
          if (entry) onEntry(entry);
        }
        const rest = buf.slice(from);
        s.data.buf = rest.length > MAX_LINE ? "" : rest;
      },
    },
  });
  return { address: `127.0.0.1:${listener.port}`, stop: () => listener.stop(true) };
}

/** One access log line (Caddy 2.6 JSON: request.host, request.uri, status, duration in seconds) → an entry, else null. */
export function accessEntryOf(line: string): AccessEntry | null {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (!o || typeof o !== "object") return null;
  const { request, status, duration } = o as { request?: { host?: unknown; uri?: unknown }; status?: unknown; duration?: unknown };
  if (typeof request?.host !== "string" || typeof request.uri !== "string" || typeof status !== "number" || typeof duration !== "number") return null;
  return { host: request.host, uri: request.uri, status, durationMs: duration * 1000 };
}

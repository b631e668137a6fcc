/**
 * A test double of tecnativa/docker-socket-proxy (HAProxy in front of the Docker socket): the same
 * allow/deny rules as its haproxy.cfg, on a unix socket, forwarding what it allows to the real
 * engine with request and response bodies streamed (log follows, imports, builds). Every request is
 * recorded, so a test can say which Docker endpoints a code path used and that nothing was refused.
 *
 * The rules (haproxy.cfg, frontend dockerfrontend), in order; the first that decides wins:
 *   1. deny unless the method is GET or HEAD (HAProxy's METH_GET), or POST=1 — so POST=1 also
 *      opens DELETE and PUT;
 *   2. allow `^(/v[\d.]+)?(/\w+)?/containers/<id>/(stop|restart|kill)` if ALLOW_RESTARTS,
 *      `.../start` if ALLOW_START, `.../stop` if ALLOW_STOP;
 *   3. allow `^(/v[\d.]+)?(/\w+)?/<section>` (a prefix match on the URL-decoded path, case
 *      insensitive, query not included) if that section's variable is 1;
 *   4. deny. A denial is HAProxy's 403 page.
 * Defaults as the image's Dockerfile: EVENTS, PING and VERSION are 1, everything else 0.
 *
 * Not modelled: connection upgrades (attach and exec's hijacked stream) — Kiln uses neither.
 * A later template in that repository (system_files/.../haproxy.cfg.template) also has DELETE/PUT
 * flags of their own and denies /containers/<id>/(exec|kill|attach|archive|export|logs) unless
 * ALLOW_<NAME>; this double follows the haproxy.cfg above, the one its README and tests describe.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The API sections docker-socket-proxy gates, each by the variable of the same name. */
export const SOCKET_PROXY_SECTIONS = [
  "AUTH",
  "BUILD",
  "COMMIT",
  "CONFIGS",
  "CONTAINERS",
  "DISTRIBUTION",
  "EVENTS",
  "EXEC",
  "GRPC",
  "IMAGES",
  "INFO",
  "NETWORKS",
  "NODES",
  "PING",
  "PLUGINS",
  "SECRETS",
  "SERVICES",
  "SESSION",
  "SWARM",
  "SYSTEM",
  "TASKS",
  "VERSION",
  "VOLUMES",
] as const;

export type SocketProxySection = (typeof SOCKET_PROXY_SECTIONS)[number];
export type SocketProxyFlag = SocketProxySection | "POST" | "ALLOW_RESTARTS" | "ALLOW_START" | "ALLOW_STOP";
export type SocketProxyAllow = Partial<Record<SocketProxyFlag, boolean>>;

/** What the image grants when the variable is not set. */
export const SOCKET_PROXY_DEFAULTS: SocketProxyAllow = { EVENTS: true, PING: true, VERSION: true };

/** What may come before a section: an API version, then any one segment (haproxy.cfg's `(/\w+)?`). */
const PREFIX = String.raw`^(/v[\d.]+)?(/\w+)?`;
const CONTAINER_ACTION = (action: string) => new RegExp(`${PREFIX}/containers/[a-zA-Z0-9_.-]+/(${action})`, "i");
const CONTAINER_RULES: [SocketProxyFlag, RegExp][] = [
  ["ALLOW_RESTARTS", CONTAINER_ACTION("stop|restart|kill")],
  ["ALLOW_START", CONTAINER_ACTION("start")],
  ["ALLOW_STOP", CONTAINER_ACTION("stop")],
];
const sectionPath = (s: SocketProxySection) => (s === "PING" ? "_ping" : s.toLowerCase());
const SECTION_RULES: [SocketProxySection, RegExp][] = SOCKET_PROXY_SECTIONS.map((s) => [s, new RegExp(`${PREFIX}/${sectionPath(s)}`, "i")]);

/**
 * docker-socket-proxy's verdict on one request. `path` is the request path without the query, as
 * sent (not normalised); it is URL-decoded here as HAProxy's `path,url_dec` does.
 */
export function socketProxyAllows(method: string, path: string, allow: SocketProxyAllow): boolean {
  const on = (flag: SocketProxyFlag) => (allow[flag] ?? SOCKET_PROXY_DEFAULTS[flag]) === true;
  const m = method.toUpperCase();
  if (!(m === "GET" || m === "HEAD" || on("POST"))) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false; // url_dec fails: no allow rule matches
  }
  for (const [flag, re] of CONTAINER_RULES) if (on(flag) && re.test(decoded)) return true;
  for (const [flag, re] of SECTION_RULES) if (on(flag) && re.test(decoded)) return true;
  return false;
}

export interface ProxiedRequest {
  method: string;
  /** Path as sent, without the query. */
  path: string;
  query: string;
  allowed: boolean;
  /** The engine's status (403 for a denial); unset while the request is in flight. */
  status?: number;
  /** The engine's error body, for a status of 400 or more. */
  error?: string;
}

export interface SocketProxy {
  socketPath: string;
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

const FORBIDDEN_PAGE = "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
/** Hop-by-hop headers a proxy does not pass on (RFC 9110 §7.6.1), and the ones fetch sets itself. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "content-length"]);

function forwardable(headers: Headers): Headers {
  const out = new Headers();
  headers.forEach((value, key) => {
    if (!HOP_HEADERS.has(key.toLowerCase())) out.set(key, value);
  });
  return out;
}

/** The request target of `req.url` as sent: path and query, split, without URL normalisation. */
function target(url: string): { path: string; query: string } {
  const afterScheme = url.indexOf("://");
  const slash = url.indexOf("/", afterScheme < 0 ? 0 : afterScheme + 3);
  const t = slash < 0 ? "/" : url.slice(slash);
  const q = t.indexOf("?");
  return q < 0 ? { path: t, query: "" } : { path: t.slice(0, q), query: t.slice(q) };
}

export async function startSocketProxy(opts: { upstream?: string; allow: SocketProxyAllow }): Promise<SocketProxy> {
  const upstream = opts.upstream ?? "/var/run/docker.sock";
  const dir = mkdtempSync(join(tmpdir(), "kiln-socket-proxy-"));
  const socketPath = join(dir, "docker.sock");
  const requests: ProxiedRequest[] = [];
  // Upstream requests in flight, so stop() can end endless ones (the event stream, log follows):
  // server.stop(true) alone waits for their handlers.
  const inflight = new Set<AbortController>();

  // HAProxy's client/server timeouts are 10 min: log follows and waits stay idle far longer than Bun's
  // 10 s default. Bun honours idleTimeout on a unix socket too; its types list it for TCP only.
  const noIdleTimeout: object = { idleTimeout: 0 };
  const server = Bun.serve({
    unix: socketPath,
    ...noIdleTimeout,
    async fetch(req) {
      const { path, query } = target(req.url);
      const record: ProxiedRequest = { method: req.method, path, query, allowed: socketProxyAllows(req.method, path, opts.allow) };
      requests.push(record);
      if (!record.allowed) {
        record.status = 403;
        return new Response(FORBIDDEN_PAGE, { status: 403, headers: { "content-type": "text/html", "cache-control": "no-cache" } });
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body !== null;
      let res: Response;
      const upstreamAbort = new AbortController();
      inflight.add(upstreamAbort);
      req.signal.addEventListener("abort", () => upstreamAbort.abort(), { once: true });
      try {
        res = await fetch(`http://docker${path}${query}`, {
          method: req.method,
          headers: forwardable(req.headers),
          body: hasBody ? req.body : undefined,
          signal: upstreamAbort.signal, // the client went away, or the proxy stops: end the engine's side too
          unix: upstream,
          duplex: "half",
          decompress: false,
        } as RequestInit);
      } catch (err) {
        record.status = 503;
        return new Response(`socket proxy: upstream ${upstream} failed: ${err instanceof Error ? err.message : String(err)}\n`, { status: 503 });
      }
      record.status = res.status;
      const init = { status: res.status, statusText: res.statusText, headers: forwardable(res.headers) };
      if (res.status < 400) return new Response(res.body, init);
      // An engine error is one short JSON message: keep it for the test's diagnostics.
      record.error = await res.text();
      return new Response(record.error, init);
    },
  });

  return {
    socketPath,
    requests,
    async stop() {
      for (const a of inflight) {
        try {
          a.abort();
        } catch {
          // Bun rethrows an abort reason from an already-settled fetch: nothing left to end
        }
      }
      await server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

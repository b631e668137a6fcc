/**
 * A switchable fault in front of an S3 server, for tests and the chaos suite: a loopback HTTP proxy
 * that passes requests through to the server, answers them with a 500 (an S3 InternalError), or
 * holds them unanswered (a hung server). Point a sink's endpoint at `proxy.endpoint` and switch
 * at any moment. A switch drops the connections open at that moment — a client's keep-alive
 * connection would otherwise carry on in the old mode — so every request after it sees the new
 * mode. Counts per mode let a test wait on a positive signal ("an upload is being held") rather
 * than sleep. Bodies stream both ways in "pass" (nothing is buffered); SigV4 signatures name the
 * proxy's host, which s3rver does not check.
 *
 *   const s3 = await startS3();
 *   const proxy = await startS3Proxy(s3.endpoint);
 *   proxy.set("error");                                        // every request: 500 InternalError
 *   proxy.set("error", { status: 403 });                       // AccessDenied (rclone does not retry it)
 *   proxy.set("hang", { only: (r) => r.method === "PUT" });    // only uploads hang; the rest pass
 *   await until("an upload is held", () => proxy.held > 0);
 *   proxy.set("pass");
 *   await proxy.stop();                              // before s3.stop()
 */
import { type IncomingMessage, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type S3Fault = "pass" | "error" | "hang";

export interface S3ProxyRequest {
  method: string;
  /** Path and query, e.g. "/bucket/tenants/a/hits?x-id=PutObject". */
  path: string;
}

/** The S3 error each status is answered with. */
const ERROR_CODES = { 403: "AccessDenied", 500: "InternalError", 503: "SlowDown" } as const;
export type S3ErrorStatus = keyof typeof ERROR_CODES;

export interface S3FaultOptions {
  /** Requests it picks meet the fault; the others pass. Default: every request. */
  only?: (req: S3ProxyRequest) => boolean;
  /** With "error": the status (default 500; rclone retries 500 and 503, not 403). */
  status?: S3ErrorStatus;
}

export interface S3Proxy {
  /** http://127.0.0.1:<port> — use as the sink's endpoint. */
  endpoint: string;
  readonly mode: S3Fault;
  /** Switch mode (see S3FaultOptions). Drops the open connections. */
  set(mode: S3Fault, opts?: S3FaultOptions): void;
  /** Requests met so far in each mode (a held request counts when it arrives). */
  readonly counts: Readonly<Record<S3Fault, number>>;
  /** Requests answered with an error or held, so far (counts.error + counts.hang). */
  readonly faulted: number;
  /** Requests being held unanswered right now. */
  readonly held: number;
  /** Drop every connection and stop listening. */
  stop(): Promise<void>;
}

const errorXml = (status: S3ErrorStatus) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${ERROR_CODES[status]}</Code><Message>injected by the test S3 proxy</Message></Error>`;

export async function startS3Proxy(upstream: string): Promise<S3Proxy> {
  const target = new URL(upstream);
  let mode: S3Fault = "pass";
  let opts: S3FaultOptions = {};
  const counts: Record<S3Fault, number> = { pass: 0, error: 0, hang: 0 };
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();

  const pass = (req: IncomingMessage, res: ServerResponse) => {
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    sockets.add(req.socket);
    req.socket.once("close", () => sockets.delete(req.socket));
    const r = { method: req.method ?? "GET", path: req.url ?? "/" };
    const fault: S3Fault = opts.only && !opts.only(r) ? "pass" : mode;
    counts[fault]++;
    if (fault === "pass") return pass(req, res);
    req.resume(); // read the body (an upload's bytes) and drop it
    if (fault === "hang") {
      held.add(res);
      res.once("close", () => held.delete(res));
      return;
    }
    const status = opts.status ?? 500;
    req.once("end", () => {
      const body = errorXml(status);
      res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body), connection: "close" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const dropConnections = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    set(next, options = {}) {
      mode = next;
      opts = options;
      dropConnections();
    },
    counts,
    get faulted() {
      return counts.error + counts.hang;
    },
    get held() {
      return held.size;
    },
    async stop() {
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The one place Kiln sends requests to the Docker Engine API (over its unix socket).
 * Engine failures become KilnErrors: 404 → not_found, 409 → conflict, 400 → bad_request,
 * anything else (and an unreachable socket) → unavailable; for a 403 (a socket proxy's or an
 * authorization plugin's refusal) the hint says which request to allow.
 */
import { KilnError, unavailable } from "../../core/errors.ts";
import { Http1Reader } from "./http1-reader.ts";

export type QueryValue = string | number | boolean | undefined;
/** An array value repeats the parameter (`changes=a&changes=b`). */
export type Query = Record<string, QueryValue | string[]>;

export interface EngineRequest {
  method?: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  path: string;
  query?: Query;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (a tar stream, say). */
  raw?: ReadableStream<Uint8Array> | Uint8Array;
  contentType?: string;
  /** Extra request headers (e.g. X-Registry-Auth on a push). */
  headers?: Record<string, string>;
  /** Non-2xx statuses that are not errors here (e.g. 304 on stop, 404 on remove). */
  okStatuses?: number[];
  signal?: AbortSignal;
}

/** Build `?a=1&b=x` from a Query; undefined values are left out, booleans become 1/0. */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) params.append(key, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

export class EngineHttp {
  constructor(
    readonly socketPath: string,
    readonly apiVersion: string,
  ) {}

  /** Send a request; resolves to the response when its status is 2xx or in okStatuses. */
  async request(req: EngineRequest): Promise<Response> {
    const url = `http://docker/${this.apiVersion}${req.path}${queryString(req.query)}`;
    const headers: Record<string, string> = { ...req.headers };
    let body: RequestInit["body"];
    if (req.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(req.json);
    } else if (req.raw !== undefined) {
      headers["Content-Type"] = req.contentType ?? "application/octet-stream";
      body = req.raw;
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method ?? "GET",
        headers,
        body,
        signal: req.signal,
        unix: this.socketPath,
        // Required by the fetch spec for a streamed request body.
        duplex: "half",
      } as RequestInit);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw this.#unreachable(err);
    }
    if (res.ok || req.okStatuses?.includes(res.status)) return res;
    throw engineError(res.status, await engineMessage(res), `${req.method ?? "GET"} ${req.path}`);
  }

  async json<T>(req: EngineRequest): Promise<T> {
    const res = await this.request(req);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  /** Send a request and discard the body (but wait for it: the engine works until it ends). */
  async send(req: EngineRequest): Promise<number> {
    const res = await this.request(req);
    await res.arrayBuffer();
    return res.status;
  }

  /**
   * A GET whose body is handed to `onBody` as the socket delivers it, read off the unix socket
   * (./http1-reader.ts says why not fetch). Resolves when the body ends or `signal` aborts it
   * (rejecting with the signal's reason, as `request` does); rejects as `request` does for a
   * non-2xx answer or an unreachable engine, and when the connection breaks mid-body.
   * `onBody` runs synchronously in the socket's read: the next read waits for it.
   */
  stream(req: Pick<EngineRequest, "path" | "query" | "signal">, onBody: (bytes: Uint8Array) => void): Promise<void> {
    const what = `GET ${req.path}`;
    return new Promise<void>((resolve, reject) => {
      let socket: { end(): void; terminate?(): void } | null = null;
      let settled = false;
      let failure: { status: number; statusText: string; body: Uint8Array[] } | null = null;
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        req.signal?.removeEventListener("abort", onAbort);
        socket?.end();
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = () => settle(req.signal!.reason ?? new Error("aborted"));
      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener("abort", onAbort, { once: true });
      const reader = new Http1Reader({
        onHead: (head) => {
          if (head.status < 200 || head.status > 299) failure = { status: head.status, statusText: head.statusText, body: [] };
        },
        onBody: (bytes) => {
          if (settled) return;
          if (failure) failure.body.push(bytes.slice());
          else onBody(bytes);
        },
        onEnd: () => {
          if (!failure) return settle();
          const text = new TextDecoder().decode(Buffer.concat(failure.body));
          settle(engineError(failure.status, messageOf(text, failure.statusText, failure.status), what));
        },
        onError: (message) => settle(unavailable(`the Docker engine's answer to ${what} broke off: ${message}`, "the engine restarted or the connection was cut; Kiln reads again")),
      });
      Bun.connect({
        unix: this.socketPath,
        socket: {
          open: (s) => {
            socket = s;
            if (settled) return void s.end();
            s.write(`GET /${this.apiVersion}${req.path}${queryString(req.query)} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`);
          },
          data: (_s, bytes) => {
            if (!settled) reader.push(bytes);
          },
          close: () => {
            if (!settled) reader.close();
          },
          error: (_s, err) => settle(this.#unreachable(err)),
        },
      }).catch((err: unknown) => settle(this.#unreachable(err)));
    });
  }

  #unreachable(err: unknown): KilnError {
    const detail = err instanceof Error ? err.message : String(err);
    return unavailable(
      `cannot reach the Docker engine at ${this.socketPath}: ${detail}`,
      "start dockerd (systemctl start docker) or point Kiln at the right socket",
    );
  }
}

async function engineMessage(res: Response): Promise<string> {
  return messageOf(await res.text().catch(() => ""), res.statusText, res.status);
}

function messageOf(text: string, statusText: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: use the text
  }
  // An HTML error page (a proxy's) as its text: "403 Forbidden Request forbidden by administrative rules."
  const plain = text.startsWith("<") ? text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ") : text;
  return plain.trim() || statusText || `HTTP ${status}`;
}

export function engineError(status: number, message: string, what: string): KilnError {
  const msg = `docker: ${message}`;
  switch (status) {
    case 400:
      return new KilnError("bad_request", msg);
    case 403:
      return new KilnError(
        "unavailable",
        msg,
        `${what} was refused (HTTP 403) by a proxy in front of the Docker socket or an authorization plugin: allow it there (docker-socket-proxy: its API section's variable, and POST for anything but GET)`,
      );
    case 404:
      return new KilnError("not_found", msg);
    case 409:
      return new KilnError("conflict", msg);
    default:
      return new KilnError("unavailable", msg, `the Docker engine failed ${what} (HTTP ${status})`);
  }
}

/**
 * Read a stream of JSON messages (one per line, as /build, /images/create and /events send).
 * Lines that are not JSON are skipped.
 */
export async function readJsonLines(
  body: ReadableStream<Uint8Array>,
  onMessage: (msg: Record<string, unknown>) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  const handle = (line: string) => {
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg && typeof msg === "object") onMessage(msg as Record<string, unknown>);
  };
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      handle(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  handle(buf + decoder.decode());
}

/** The `error` of a streamed engine message, if it carries one. */
export function streamError(msg: Record<string, unknown>): string | null {
  const detail = msg.errorDetail as { message?: unknown } | undefined;
  if (detail && typeof detail.message === "string") return detail.message;
  if (typeof msg.error === "string") return msg.error;
  return null;
}

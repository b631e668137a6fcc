/**
 * A small client for Caddy's admin API. Every failure is a KilnError "unavailable" that names
 * the request and carries Caddy's own error text.
 *
 * One connection per request: Caddy 2.6 replaces its admin server on every config change and closes
 * the old one's connections, so a pooled connection would fail the next call with ECONNRESET. Even a
 * fresh one can, when it races a config change: a GET (safe to repeat) is tried GET_ATTEMPTS times.
 */
import { KilnError, errorMessage } from "../../core/errors.ts";

export type AdminMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface AdminResponse {
  status: number;
  /** Parsed JSON body, or null when the body is empty. */
  body: unknown;
}

export interface AdminRequestOptions {
  /** Statuses besides 2xx that the caller handles itself (e.g. 404 for "no such id"). */
  allow?: number[];
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
export const GET_ATTEMPTS = 3;
const RETRY_DELAY_MS = 50;

export class CaddyAdminClient {
  readonly baseUrl: string;

  constructor(adminUrl: string) {
    this.baseUrl = adminUrl.replace(/\/+$/, "");
  }

  async request(method: AdminMethod, path: string, body?: unknown, opts: AdminRequestOptions = {}): Promise<AdminResponse> {
    const what = `${method} ${path}`;
    let res: Response | undefined;
    const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await fetch(this.baseUrl + path, {
          method,
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
          keepalive: false,
        });
      } catch (err) {
        if (method === "GET" && attempt < GET_ATTEMPTS && !signal.aborted) {
          await Bun.sleep(RETRY_DELAY_MS);
          continue;
        }
        throw unreachable(this.baseUrl, what, err);
      }
    }
    const text = await res.text().catch(() => "");
    const parsed = parseJson(text);
    if (res.ok || opts.allow?.includes(res.status)) return { status: res.status, body: parsed };
    throw new KilnError(
      "unavailable",
      `Caddy refused ${what} (${res.status}): ${caddyError(parsed, text)}`,
      "see Caddy's log for details; restarting Kiln re-applies all routes",
    );
  }

  get(path: string, opts?: AdminRequestOptions) {
    return this.request("GET", path, undefined, opts);
  }
  post(path: string, body: unknown, opts?: AdminRequestOptions) {
    return this.request("POST", path, body, opts);
  }
  put(path: string, body: unknown, opts?: AdminRequestOptions) {
    return this.request("PUT", path, body, opts);
  }
  patch(path: string, body: unknown, opts?: AdminRequestOptions) {
    return this.request("PATCH", path, body, opts);
  }
  delete(path: string, opts?: AdminRequestOptions) {
    return this.request("DELETE", path, undefined, opts);
  }

  /** True when GET /config/ answers 2xx within `timeoutMs`. */
  async answers(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/config/`, { signal: AbortSignal.timeout(timeoutMs), keepalive: false });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }
}

function unreachable(baseUrl: string, what: string, err: unknown): KilnError {
  return new KilnError(
    "unavailable",
    `Caddy's admin API at ${baseUrl} did not answer ${what}: ${errorMessage(err)}`,
    "check that Caddy is running with its admin API at this address (Kiln starts it itself when `caddy` is on PATH)",
  );
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Caddy answers errors as {"error": "..."}. */
export function caddyError(parsed: unknown, raw: string): string {
  if (parsed && typeof parsed === "object" && "error" in parsed && typeof parsed.error === "string") return parsed.error;
  return raw.trim().slice(0, 500) || "(empty response)";
}

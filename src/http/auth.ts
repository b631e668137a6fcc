/**
 * Bearer-token auth: `Authorization: Bearer <token>`, or `?token=` for WebSockets (browsers can't set
 * headers). Failures are limited per client address (auth-limit.ts): past the limit, a wrong or
 * missing token gets 429 with Retry-After; the right token always passes. The address is the TCP
 * peer Bun saw (server.requestIP): behind a proxy every client shares the proxy's address.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/bun";
import { timingSafeEqual } from "node:crypto";
import { FailureLimiter } from "./auth-limit.ts";

const HINT = "send Authorization: Bearer <token>; the token is in $KILN_DATA_DIR/api-token";

export function requireToken(token: string, publicPaths: string[], limiter = new FailureLimiter()): MiddlewareHandler {
  const expected = Buffer.from(token);
  const matches = (given: string | undefined) => {
    if (!given) return false;
    const b = Buffer.from(given);
    return b.length === expected.length && timingSafeEqual(b, expected);
  };
  return async (c, next) => {
    if (publicPaths.includes(c.req.path)) return next();
    const header = c.req.header("authorization");
    const bearer = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    const isWs = c.req.header("upgrade")?.toLowerCase() === "websocket";
    const given = bearer ?? (isWs ? c.req.query("token") : undefined);
    if (matches(given)) return next();
    const address = clientAddress(c);
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      return c.json({ error: { kind: "rate_limited", message: `too many failed authentication attempts from ${address}; try again in ${wait} s`, hint: HINT } }, 429);
    }
    limiter.fail(address);
    return c.json({ error: { kind: "unauthorized", message: given ? "the API token is wrong" : "missing API token", hint: HINT } }, 401);
  };
}

/** The TCP peer's address, when the app runs under Bun.serve (its server is the app's env); else "unknown". */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // app.request() in tests: no server
  }
}

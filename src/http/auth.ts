/** Bearer-token auth: `Authorization: Bearer <token>`, or `?token=` for WebSockets (browsers can't set headers). */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";

export function requireToken(token: string, publicPaths: string[]): MiddlewareHandler {
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
    if (!matches(given)) {
      return c.json(
        { error: { kind: "unauthorized", message: given ? "the API token is wrong" : "missing API token", hint: "send Authorization: Bearer <token>; the token is in $KILN_DATA_DIR/api-token" } },
        401,
      );
    }
    return next();
  };
}

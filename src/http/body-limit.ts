/**
 * Per-route body caps, for the whole app. Every route but the upload takes JSON (or nothing), so it
 * gets a small cap (KILN_MAX_JSON_KB, 1 MiB by default); the upload route streams to disk under its
 * own cap (upload.ts, KILN_MAX_UPLOAD_MB).
 *
 * A body over the cap is refused with a 413 naming it, while it streams: a Content-Length over the
 * cap before a byte is read; a chunked body at the first chunk past the cap, so at most the cap is
 * ever held (Hono's bodyLimit). Any refusal (≥ 400) of a request that came with a body closes the
 * connection, so Bun stops reading whatever the client still sends. Bun reads a body only as fast as
 * it is consumed (backpressure), so no server-wide ceiling is needed (main.ts).
 *
 *   app.use("*", bodyLimits(1024 * 1024, ["/api/v1/deployments/upload"]));
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { tooLarge } from "../core/errors.ts";
import { errorResponse } from "./errors.ts";

/** `uploadPaths`: exact paths, or patterns for paths with an id in them. */
export function bodyLimits(maxJsonBytes: number, uploadPaths: (string | RegExp)[]): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxJsonBytes,
    onError: (c) =>
      errorResponse(
        c,
        tooLarge(
          `the request body is over the ${formatCap(maxJsonBytes)} cap for JSON requests`,
          "send a smaller JSON body (raise KILN_MAX_JSON_KB if it must be this big); tarballs go to POST /api/v1/deployments/upload",
        ),
      ),
  });
  return async (c, next) => {
    if (uploadPaths.some((p) => (typeof p === "string" ? p === c.req.path : p.test(c.req.path)))) await next();
    else {
      const refused = await limit(c, next); // onError's response; undefined when the body was within the cap
      if (refused instanceof Response) c.res = refused;
    }
    if (c.res.status >= 400 && hasBody(c)) closeConnection(c);
  };
}

function hasBody(c: Context): boolean {
  return c.req.raw.body !== null && c.req.raw.headers.get("content-length") !== "0";
}

function closeConnection(c: Context): void {
  try {
    c.res.headers.set("connection", "close");
  } catch {
    c.res = new Response(c.res.body, { status: c.res.status, statusText: c.res.statusText, headers: { ...Object.fromEntries(c.res.headers), connection: "close" } });
  }
}

/** 1048576 → "1 MiB", 65536 → "64 KiB", 1000 → "1000 bytes". */
export function formatCap(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

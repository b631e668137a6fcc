/** The one place errors become HTTP responses. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KilnError, type ErrorKind } from "../core/errors.ts";

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unavailable: 503,
  internal: 500,
};

export function errorResponse(c: Context, err: unknown): Response {
  if (err instanceof KilnError) {
    return c.json({ error: { kind: err.kind, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } }, STATUS[err.kind]);
  }
  console.error("unexpected error:", err);
  return c.json({ error: { kind: "internal", message: "internal error; see the Kiln server log" } }, 500);
}

/** zod-openapi's validation hook: a 400 naming the field and what is wrong. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, c: Context) {
  if (result.success || !result.error) return;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length ? `${issue.path.map(String).join(".")}: ` : "";
  return c.json({ error: { kind: "bad_request", message: `${where}${issue?.message ?? "invalid request"}` } }, 400);
}

/** The one place errors become HTTP responses. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
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
  if (err instanceof HTTPException && err.status >= 400 && err.status < 500) {
    // Hono's own refusals, e.g. a body that is not JSON: the caller's mistake, not a 500.
    const kind = (Object.keys(STATUS) as ErrorKind[]).find((k) => STATUS[k] === err.status) ?? "bad_request";
    const hint = err.message === "Malformed JSON in request body" ? "send a JSON object with Content-Type: application/json" : undefined;
    return c.json({ error: { kind, message: err.message || "bad request", ...(hint ? { hint } : {}) } }, err.status);
  }
  console.error("unexpected error:", err);
  return c.json({ error: { kind: "internal", message: "internal error; see the Kiln server log" } }, 500);
}

/** zod-openapi's validation hook: a 400 naming the field and what is wrong. */
interface ValidationIssue {
  path: PropertyKey[];
  message: string;
  /** zod 4 nests the key schema's own issues (with its message) under an "invalid_key" issue. */
  issues?: ValidationIssue[];
}

export function validationHook(result: { success: boolean; error?: { issues: ValidationIssue[] } }, c: Context) {
  if (result.success || !result.error) return;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length ? `${issue.path.map(String).join(".")}: ` : "";
  const message = issue?.issues?.[0]?.message ?? issue?.message ?? "invalid request";
  return c.json({ error: { kind: "bad_request", message: `${where}${message}` } }, 400);
}

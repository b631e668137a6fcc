/**
 * Typed errors. Every failure Kiln reports to a caller is a KilnError with a kind;
 * the HTTP layer maps kinds to status codes in one place (src/http/errors.ts).
 * `message` says what went wrong, `hint` what to do about it. Neither may carry a secret.
 */
export type ErrorKind =
  | "bad_request" // the caller sent something we cannot use (400)
  | "unauthorized" // missing or wrong token (401)
  | "not_found" // (404)
  | "conflict" // illegal lifecycle move, name taken (409)
  | "too_large" // upload over a cap (413)
  | "unavailable" // an outside system (Docker, Caddy) did not answer (503)
  | "internal"; // a bug (500)

export class KilnError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "KilnError";
  }
}

export const badRequest = (msg: string, hint?: string) => new KilnError("bad_request", msg, hint);
export const notFound = (msg: string, hint?: string) => new KilnError("not_found", msg, hint);
export const conflict = (msg: string, hint?: string) => new KilnError("conflict", msg, hint);
export const tooLarge = (msg: string, hint?: string) => new KilnError("too_large", msg, hint);
export const unavailable = (msg: string, hint?: string) => new KilnError("unavailable", msg, hint);

/** A failure inside a pipeline step: the build fails with this message shown to the user. */
export class StepError extends KilnError {
  constructor(message: string, hint?: string) {
    super("bad_request", message, hint);
    this.name = "StepError";
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** An API error as words: the message, and the hint that says what to do. */
import { describeError } from "../api.ts";

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  const { message, hint } = describeError(error);
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title ?? "Something went wrong"}:</strong> {message}
      {hint && <p className="notice-hint">{hint}</p>}
    </div>
  );
}

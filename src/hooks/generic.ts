/**
 * The generic call from any CI: `Authorization: Bearer <secret>`, any (or no) body → redeploy
 * what the deployment tracks. A body of `{"commit": "<full sha>"}` would be a later extension;
 * today the body is not read.
 */
import type { HookEvent } from "../core/hooks.ts";

export function genericEvent(): HookEvent {
  return { kind: "redeploy" };
}

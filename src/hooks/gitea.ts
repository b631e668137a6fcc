/**
 * Gitea and Forgejo deliveries (X-Gitea-Event / X-Forgejo-Event): push and pull_request in
 * GitHub's shapes; Gitea names a new head "synchronized" (some versions as the event
 * pull_request_sync). Forgejo sends the same payloads.
 */
import type { HookEvent } from "../core/hooks.ts";
import { pushEvent, str } from "./fields.ts";
import { pullRequest } from "./github.ts";

export function giteaEvent(event: string, payload: unknown): HookEvent {
  switch (event) {
    case "push":
      return pushEvent(str(payload, "ref"), str(payload, "after"), str(payload, "repository.default_branch"));
    case "pull_request":
    case "pull_request_sync":
      return pullRequest(payload, { open: ["opened", "reopened"], update: ["synchronized", "synchronize"], close: ["closed"] });
    default:
      return { kind: "ignored", why: `Kiln does not act on ${event || "unnamed"} events; send push (and pull_request for previews)` };
  }
}

/**
 * GitLab deliveries (X-Gitlab-Event): "Push Hook" and "Merge Request Hook" → HookEvent.
 * A merge request's source project other than its target is a fork.
 */
import type { HookEvent } from "../core/hooks.ts";
import { isSha, num, pushEvent, str } from "./fields.ts";

const MR_ACTIONS: Record<string, "open" | "update" | "close"> = { open: "open", reopen: "open", update: "update", close: "close", merge: "close" };

export function gitlabEvent(event: string, payload: unknown): HookEvent {
  switch (event) {
    case "Push Hook":
      // checkout_sha is null when the branch was deleted; `after` is then all zeros.
      return pushEvent(str(payload, "ref"), str(payload, "checkout_sha") ?? str(payload, "after"), str(payload, "project.default_branch"));
    case "Merge Request Hook":
      return mergeRequest(payload);
    default:
      return { kind: "ignored", why: `Kiln does not act on ${event || "unnamed"} events; enable push events (and merge request events for previews)` };
  }
}

function mergeRequest(payload: unknown): HookEvent {
  const action = str(payload, "object_attributes.action") ?? "";
  const kind = MR_ACTIONS[action];
  if (!kind) return { kind: "ignored", why: `merge request action ${JSON.stringify(action)} changes no code` };
  const number = num(payload, "object_attributes.iid");
  const headSha = str(payload, "object_attributes.last_commit.id");
  const headRef = str(payload, "object_attributes.source_branch");
  if (number === null || !isSha(headSha) || !headRef) return { kind: "ignored", why: "the merge request payload lacks its iid, last commit or source branch" };
  const source = num(payload, "object_attributes.source_project_id");
  const target = num(payload, "object_attributes.target_project_id");
  return {
    kind: "pull_request",
    action: kind,
    number,
    headSha,
    headRef,
    cloneUrl: str(payload, "object_attributes.source.git_http_url"),
    fork: source === null || target === null || source !== target,
  };
}

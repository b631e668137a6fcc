/**
 * GitHub deliveries (X-GitHub-Event): push, pull_request, ping → HookEvent.
 * A branch deletion, a tag push, and pull request actions that change no code are `ignored`.
 */
import type { HookEvent } from "../core/hooks.ts";
import { at, isSha, num, pushEvent, str } from "./fields.ts";

export function githubEvent(event: string, payload: unknown): HookEvent {
  switch (event) {
    case "ping":
      return { kind: "ping" };
    case "push":
      return pushEvent(str(payload, "ref"), str(payload, "after"), str(payload, "repository.default_branch"));
    case "pull_request":
      return pullRequest(payload, { open: ["opened", "reopened"], update: ["synchronize"], close: ["closed"] });
    default:
      return { kind: "ignored", why: `Kiln does not act on ${event || "unnamed"} events; send push (and pull_request for previews)` };
  }
}

/** GitHub's pull_request shape, shared with Gitea/Forgejo (which name their actions a little differently). */
export function pullRequest(payload: unknown, actions: { open: string[]; update: string[]; close: string[] }): HookEvent {
  const action = str(payload, "action") ?? "";
  const kind = actions.open.includes(action) ? "open" : actions.update.includes(action) ? "update" : actions.close.includes(action) ? "close" : null;
  if (!kind) return { kind: "ignored", why: `pull request action ${JSON.stringify(action)} changes no code` };
  const number = num(payload, "number") ?? num(payload, "pull_request.number");
  const headSha = str(payload, "pull_request.head.sha");
  const headRef = str(payload, "pull_request.head.ref");
  if (number === null || !isSha(headSha) || !headRef) return { kind: "ignored", why: "the pull request payload lacks its number, head sha or head branch" };
  const headRepo = str(payload, "pull_request.head.repo.full_name");
  const baseRepo = str(payload, "pull_request.base.repo.full_name");
  // A head repository gone (a deleted fork) is a fork too: it is not the base.
  const fork = at(payload, "pull_request.head.repo.fork") === true || headRepo === null || (baseRepo !== null && headRepo !== baseRepo);
  return { kind: "pull_request", action: kind, number, headSha, headRef, cloneUrl: str(payload, "pull_request.head.repo.clone_url"), fork };
}

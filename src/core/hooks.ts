/**
 * What a Git host's webhook delivery means to Kiln, once its signature is checked and its payload
 * read (adapters/hooks parse GitHub, GitLab, Gitea/Forgejo and the generic call into this).
 */
export type HookProvider = "github" | "gitlab" | "gitea" | "generic";

export type HookEvent =
  | { kind: "ping" }
  /** A push of `branch` whose head is now `commit` (a branch deletion is `ignored`). */
  | { kind: "push"; branch: string; commit: string; defaultBranch: string | null }
  | PullRequestEvent
  /** The generic call: redeploy what the deployment tracks. */
  | { kind: "redeploy" }
  /** Understood, but nothing to do: the reason says why (for the 202's body). */
  | { kind: "ignored"; why: string };

export interface PullRequestEvent {
  kind: "pull_request";
  /** opened/reopened → open; synchronize/update → update; closed/merged → close. */
  action: "open" | "update" | "close";
  number: number;
  /** The head commit and branch, and where to clone it from (a fork's own repository for a fork). */
  headSha: string;
  headRef: string;
  cloneUrl: string | null;
  /** The head is in another repository than the base: never gets secrets. */
  fork: boolean;
}

/** A delivery as received: who sent it, its id (for deduplication), what it means. */
export interface HookDelivery {
  provider: HookProvider;
  deliveryId: string | null;
  event: HookEvent;
}

/** A preview deployment's link to its app. */
export interface PreviewInfo {
  parentId: string;
  /** The pull/merge request number, or null for a preview made through the API. */
  number: number | null;
  ref: string;
  commit: string | null;
  fork: boolean;
  createdAt: number;
}

/** Reading fields out of an untrusted JSON payload without trusting its shape. */
export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}

/** The object at a dotted path, or null. */
export function at(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const key of path.split(".")) {
    const o = obj(cur);
    if (!o) return undefined;
    cur = o[key];
  }
  return cur;
}

export function str(root: unknown, path: string): string | null {
  const v = at(root, path);
  return typeof v === "string" && v !== "" ? v : null;
}

export function num(root: unknown, path: string): number | null {
  const v = at(root, path);
  return typeof v === "number" && Number.isSafeInteger(v) ? v : null;
}

/** A full commit id (sha-1 or sha-256), lower-case. */
export function isSha(v: string | null): v is string {
  return v !== null && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(v);
}

/** An all-zero sha: what a push deleting its ref sends as `after`. */
export function isZeroSha(v: string | null): boolean {
  return v !== null && /^0+$/.test(v);
}

/** refs/heads/<branch> → branch; anything else (tags, notes) → null. */
export function branchOf(ref: string | null): string | null {
  return ref?.startsWith("refs/heads/") && ref.length > 11 ? ref.slice(11) : null;
}

/** A push: the tracked-branch decision is the service's; here only what was pushed. */
export function pushEvent(ref: string | null, after: string | null, defaultBranch: string | null) {
  const branch = branchOf(ref);
  if (!branch) return { kind: "ignored" as const, why: ref?.startsWith("refs/tags/") ? `a tag push (${ref.slice(10)}) deploys nothing; pushes to a branch do` : `the push names no branch (ref ${JSON.stringify(ref ?? "")})` };
  if (isZeroSha(after)) return { kind: "ignored" as const, why: `branch ${branch} was deleted` };
  if (!isSha(after)) return { kind: "ignored" as const, why: `the push of ${branch} names no commit` };
  return { kind: "push" as const, branch, commit: after, defaultBranch };
}

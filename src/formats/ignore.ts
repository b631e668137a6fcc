/**
 * Ignore rules, with no I/O (the dashboard packs dropped folders with it in the browser). Two
 * dialects over one glob compiler (ignore/glob.ts):
 * - gitignore (ignore/gitignore.ts): .gitignore and .kilnignore, for `kiln deploy <folder>` and a
 *   folder dropped on the dashboard. Git accepts every line, so a deploy never fails on one.
 * - dockerignore (ignore/dockerignore.ts): .dockerignore, while packing a build context. A line
 *   Docker would reject is a KilnError bad_request naming the file and line.
 *
 *   const ignore = folderIgnore([{ name: ".gitignore", text }]);
 *   ignore("dist", { isDirectory: true }); // true: leave dist/ and its subtree out
 */
import { gitignoreMatcher, parseGitignore } from "./ignore/gitignore.ts";
import type { IgnorePredicate } from "./ignore/glob.ts";

export type { IgnorePredicate } from "./ignore/glob.ts";
export { gitignoreMatcher, parseGitignore, type GitignoreRule } from "./ignore/gitignore.ts";
export { dockerignoreMatcher, parseDockerignore, type DockerignoreRule } from "./ignore/dockerignore.ts";

/** Never part of a deployed folder, at any depth. */
export const ALWAYS_IGNORED = [".git", "node_modules"] as const;
/** A deployed folder's ignore files, read at its top level in this order (later rules win). */
export const IGNORE_FILES = [".gitignore", ".kilnignore"] as const;

/** What a deployed folder leaves out: ALWAYS_IGNORED, then its ignore files' rules, in order. */
export function folderIgnore(files: readonly { name: string; text: string }[]): IgnorePredicate {
  const rules = gitignoreMatcher(files.flatMap((f) => parseGitignore(f.text, f.name)));
  return (relPath, info) => {
    const name = relPath.slice(relPath.lastIndexOf("/") + 1);
    return (ALWAYS_IGNORED as readonly string[]).includes(name) || rules(relPath, info);
  };
}

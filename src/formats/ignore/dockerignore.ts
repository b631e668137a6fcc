/**
 * The dockerignore dialect, applied while packing a build context. Docker's build API does not
 * apply .dockerignore to an uploaded tar (the docker CLI filters on the client), so Kiln filters
 * as the CLI does: a line starting with `#` is a comment, lines are trimmed, `!` re-includes,
 * patterns are cleaned like Go's filepath.Clean and relative to the root (a leading `/` is
 * dropped, a trailing `/` means nothing), and a rule matches a path or any directory above it.
 * The last matching rule wins. An excluded directory is still walked when an exception may
 * re-include something inside it (its entry then stays in the archive, empty if nothing does).
 * A line Docker rejects throws a KilnError bad_request naming the file and line.
 */
import { badRequest } from "../../core/errors.ts";
import { GlobSyntaxError, globToRegExp, type IgnorePredicate } from "./glob.ts";

export interface DockerignoreRule {
  /** The file and 1-based line the rule comes from. */
  file: string;
  line: number;
  /** The cleaned pattern, without its `!`. */
  pattern: string;
  negate: boolean;
  regex: RegExp;
  /** Per path segment: its regex, or "any" where a `**` may stand for any number of them. */
  segments: (RegExp | "any")[];
}

/** The rules of one file's text, in order; `file` names it in errors (".dockerignore"). */
export function parseDockerignore(text: string, file: string): DockerignoreRule[] {
  const rules: DockerignoreRule[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.startsWith("#")) return;
      let pattern = raw.trim();
      if (pattern === "") return;
      const where = `${file} line ${i + 1}`;
      const negate = pattern.startsWith("!");
      if (negate) pattern = pattern.slice(1).trim();
      if (negate && pattern === "") throw badRequest(`${where}: "!" alone excludes nothing`, `Remove the line or write the path to re-include after the "!".`);
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
      try {
        rules.push({ file, line: i + 1, pattern, negate, regex: globToRegExp(pattern, "dockerignore"), segments: pattern.split("/").map(segmentRegex) });
      } catch (err) {
        if (!(err instanceof GlobSyntaxError)) throw err;
        throw badRequest(`${where}: ${JSON.stringify(raw.trim())}: ${err.message}`, "Fix or remove that line: .dockerignore uses Go's filepath.Match syntax, and Docker rejects it too.");
      }
    });
  return rules;
}

/** A predicate for the tar packer from rules of one or more files, in order. */
export function dockerignoreMatcher(rules: readonly DockerignoreRule[]): IgnorePredicate {
  if (rules.length === 0) return () => false;
  const exceptions = rules.filter((r) => r.negate);
  return (relPath, { isDirectory }) => {
    if (!isExcluded(rules, relPath)) return false;
    return !(isDirectory && exceptions.some((r) => mayMatchInside(r, relPath)));
  };
}

function isExcluded(rules: readonly DockerignoreRule[], path: string): boolean {
  const parts = path.split("/");
  const paths = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let excluded = false;
  for (const rule of rules) {
    if (paths.some((p) => rule.regex.test(p))) excluded = !rule.negate;
  }
  return excluded;
}

/** Whether `rule` could match some path below the directory `dir`, judged segment by segment. */
function mayMatchInside(rule: DockerignoreRule, dir: string): boolean {
  const parts = dir.split("/");
  for (let i = 0; i < parts.length; i++) {
    const segment = rule.segments[i];
    if (segment === undefined) return false;
    if (segment === "any") return true;
    if (!segment.test(parts[i]!)) return false;
  }
  return rule.segments.length > parts.length;
}

function segmentRegex(segment: string): RegExp | "any" {
  if (segment.includes("**")) return "any";
  try {
    return globToRegExp(segment, "dockerignore");
  } catch {
    return "any"; // a class holding a "/": cannot judge by segment, so assume it may match
  }
}

/** Go's filepath.Clean: no "." or empty segments, ".." resolved where it can be, "." for nothing. */
function cleanPath(path: string): string {
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg !== "..") out.push(seg);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!rooted) out.push("..");
  }
  const joined = out.join("/");
  return rooted ? `/${joined}` : joined || ".";
}

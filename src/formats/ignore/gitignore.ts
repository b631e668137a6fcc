/**
 * The gitignore dialect (for .gitignore and .kilnignore), read as git reads one file at the
 * root: `#` comments, trailing spaces dropped unless escaped (`\ `), CRLF and a BOM tolerated,
 * `!` negates, `\#` and `\!` stand for themselves, a trailing `/` matches directories only, a
 * pattern with a `/` elsewhere is anchored at the root and one without matches at any depth.
 * The last matching rule wins. Git accepts every line, so this never throws. A directory left
 * out takes its subtree along: the caller stops walking there (git cannot re-include below it).
 */
import { globToRegExp, type IgnorePredicate } from "./glob.ts";

export interface GitignoreRule {
  /** The file and 1-based line the rule comes from. */
  file: string;
  line: number;
  /** The line as written (without its line ending). */
  text: string;
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

/** The rules of one file's text, in order; `file` names it (".gitignore"). */
export function parseGitignore(text: string, file: string): GitignoreRule[] {
  const rules: GitignoreRule[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .forEach((raw, i) => {
      const written = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      let pattern = trimTrailingSpaces(written);
      if (pattern === "" || pattern.startsWith("#")) return;
      const negate = pattern.startsWith("!");
      if (negate) pattern = pattern.slice(1);
      const dirOnly = pattern.endsWith("/");
      if (dirOnly) pattern = pattern.slice(0, -1);
      if (pattern === "") return;
      const anchored = pattern.includes("/");
      const glob = pattern.startsWith("/") ? pattern.slice(1) : pattern;
      rules.push({ file, line: i + 1, text: written, negate, dirOnly, regex: globToRegExp(glob, "gitignore", { anyDepth: !anchored }) });
    });
  return rules;
}

/** A predicate from rules of one or more files, in order. */
export function gitignoreMatcher(rules: readonly GitignoreRule[]): IgnorePredicate {
  return (relPath, { isDirectory }) => {
    let ignored = false;
    for (const rule of rules) {
      if (rule.dirOnly && !isDirectory) continue;
      if (rule.regex.test(relPath)) ignored = !rule.negate;
    }
    return ignored;
  };
}

/** Git's trim: trailing spaces go, unless the first of them is escaped with `\`. */
function trimTrailingSpaces(line: string): string {
  let cut = -1;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === " ") {
      if (cut < 0) cut = i;
    } else {
      if (ch === "\\") i++;
      cut = -1;
    }
  }
  return cut < 0 ? line : line.slice(0, cut);
}

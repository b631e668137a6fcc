/**
 * .dockerignore, applied while packing the build context. Docker's build API does not apply it
 * to an uploaded tar (the docker CLI filters on the client), so Kiln filters the same way:
 * patterns relative to the root, `*` `?` `[…]` within a path segment, `**` across segments, `!`
 * re-includes, the last matching line wins, and a matching directory takes its subtree along.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

interface Rule {
  re: RegExp;
  negated: boolean;
  /** The pattern before its first wildcard, to know which excluded directories to still walk. */
  literalPrefix: string;
}

export type IgnoreFn = (relPath: string, info: { isDirectory: boolean }) => boolean;

/** Patterns of a .dockerignore text: blank lines and # comments dropped. */
export function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The patterns of `<dir>/.dockerignore`, or [] when there is none. */
export async function readDockerignore(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, ".dockerignore"), "utf8").catch(() => null);
  return text === null ? [] : parseDockerignore(text);
}

/** An ignore function for the tar packer from dockerignore patterns. */
export function ignoreMatcher(patterns: readonly string[]): IgnoreFn {
  const rules = patterns.map(compileRule).filter((r): r is Rule => r !== null);
  if (rules.length === 0) return () => false;
  const exceptions = rules.filter((r) => r.negated);
  return (relPath, { isDirectory }) => {
    if (!isExcluded(rules, relPath)) return false;
    // Walk into an excluded directory when a "!" line may re-include something inside it.
    if (isDirectory && exceptions.some((r) => r.literalPrefix === "" || r.literalPrefix.startsWith(`${relPath}/`) || `${relPath}/`.startsWith(`${r.literalPrefix}/`))) {
      return false;
    }
    return true;
  };
}

function isExcluded(rules: readonly Rule[], path: string): boolean {
  const parents = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let excluded = false;
  for (const rule of rules) {
    if (parents.some((p) => rule.re.test(p))) excluded = !rule.negated;
  }
  return excluded;
}

function compileRule(line: string): Rule | null {
  let pattern = line;
  const negated = pattern.startsWith("!");
  if (negated) pattern = pattern.slice(1).trim();
  pattern = cleanPath(pattern);
  if (pattern === "" || pattern === ".") return null;
  const wildcard = pattern.search(/[*?[\\]/);
  const literalPrefix = wildcard < 0 ? pattern : pattern.slice(0, Math.max(0, pattern.lastIndexOf("/", wildcard)));
  try {
    return { re: new RegExp(`^${toRegex(pattern)}$`), negated, literalPrefix };
  } catch {
    return { re: new RegExp(`^${escapeRegex(pattern)}$`), negated, literalPrefix: pattern };
  }
}

/** Go's filepath.Clean, roughly: no leading "/", no "." segments, ".." resolved, no trailing "/". */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}

function toRegex(pattern: string): string {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") i++;
        re += i + 1 >= pattern.length ? ".*" : "(.*/)?";
      } else {
        re += "[^/]*";
      }
    } else if (ch === "?") {
      re += "[^/]";
    } else if (ch === "\\") {
      i++;
      re += escapeRegex(pattern[i] ?? "\\");
    } else if (ch === "[" || ch === "]") {
      re += ch;
    } else {
      re += escapeRegex(ch);
    }
  }
  return re;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

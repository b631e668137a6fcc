/**
 * What a deployed folder leaves out (`kiln deploy <folder>`, or a folder dropped on the dashboard):
 * `.git` and `node_modules` always, then the patterns of the
 * folder's top-level .gitignore and .kilnignore (in that order; the last matching pattern wins).
 * Simple gitignore semantics: `#` comments, `!` negation, a trailing `/` matches directories only,
 * a pattern with a `/` elsewhere is anchored at the folder, one without matches at any depth;
 * `*`, `?`, `[…]` and `**`. Nested ignore files are not read. No I/O: the browser uses it too.
 */

export const ALWAYS_IGNORED = [".git", "node_modules"] as const;
export const IGNORE_FILES = [".gitignore", ".kilnignore"] as const;

export interface IgnoreRule {
  pattern: string;
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

export type IgnorePredicate = (relPath: string, info: { isDirectory: boolean }) => boolean;

/** The rules of one ignore file's text, in order. */
export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, "");
    if (!line || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1);
    if (line.startsWith("\\")) line = line.slice(1); // \# and \! stand for themselves
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.replace(/\/+$/, "");
    if (!line) continue;
    const anchored = line.includes("/");
    const body = line.replace(/^\/+/, "");
    const regex = new RegExp(`^${anchored ? "" : "(?:.*/)?"}${globToRegex(body)}$`);
    rules.push({ pattern: raw.trim(), negate, dirOnly, regex });
  }
  return rules;
}

/** A predicate for packDirectoryStream's `ignore`: true leaves the path (and a directory's subtree) out. */
export function ignorePredicate(rules: IgnoreRule[]): IgnorePredicate {
  return (relPath, { isDirectory }) => {
    const name = relPath.slice(relPath.lastIndexOf("/") + 1);
    if ((ALWAYS_IGNORED as readonly string[]).includes(name)) return true;
    let ignored = false;
    for (const rule of rules) {
      if (rule.dirOnly && !isDirectory) continue;
      if (rule.regex.test(relPath)) ignored = !rule.negate;
    }
    return ignored;
  };
}

function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*") {
      if (glob[i + 1] === "*") {
        const slashAfter = glob[i + 2] === "/";
        const atStart = i === 0 || glob[i - 1] === "/";
        if (atStart && slashAfter) {
          out += "(?:.*/)?"; // "**/x": x at any depth
          i += 2;
        } else {
          out += ".*"; // "x/**": everything inside
          i += 1;
        }
      } else {
        out += "[^/]*";
      }
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) {
        out += "\\[";
      } else {
        const cls = glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        out += `[${cls}]`;
        i = end;
      }
    } else if (ch === "\\" && i + 1 < glob.length) {
      out += escapeRe(glob[++i]!);
    } else {
      out += escapeRe(ch);
    }
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

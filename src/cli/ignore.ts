/** Reads a folder's ignore files for `kiln deploy <folder>` (the rules: src/formats/ignore.ts). */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { IGNORE_FILES, ignorePredicate, parseIgnore, type IgnorePredicate, type IgnoreRule } from "../formats/ignore.ts";

export { ALWAYS_IGNORED, IGNORE_FILES, ignorePredicate, parseIgnore, type IgnorePredicate, type IgnoreRule } from "../formats/ignore.ts";

/** The predicate for a folder: its .gitignore then its .kilnignore. */
export async function loadIgnore(dir: string): Promise<IgnorePredicate> {
  const rules: IgnoreRule[] = [];
  for (const file of IGNORE_FILES) {
    const text = await readFile(join(dir, file), "utf8").catch(() => "");
    rules.push(...parseIgnore(text));
  }
  return ignorePredicate(rules);
}


/** Reads a folder's ignore files for `kiln deploy <folder>` (the rules: src/formats/ignore.ts). */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { IGNORE_FILES, folderIgnore, type IgnorePredicate } from "../formats/ignore.ts";

/** The predicate for a folder: its .gitignore then its .kilnignore (a missing file has no rules). */
export async function loadIgnore(dir: string): Promise<IgnorePredicate> {
  const files = [];
  for (const name of IGNORE_FILES) files.push({ name, text: await readFile(join(dir, name), "utf8").catch(() => "") });
  return folderIgnore(files);
}

/**
 * Temporary source trees for detection tests: `tree({ path: text })` writes the files (parent
 * directories made) under a fresh temp dir and returns it; `removeAll()` (in afterAll) deletes
 * every tree made.
 *
 *   const trees = sourceTrees("kiln-python-");
 *   afterAll(trees.removeAll);
 *   const plan = await detectApp(trees.tree({ "main.py": "print(1)\n" }));
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export function sourceTrees(prefix: string): { tree(files: Record<string, string>): string; removeAll(): void } {
  const made: string[] = [];
  return {
    tree(files) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      return dir;
    },
    removeAll() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadIgnore } from "./ignore.ts";

const file = { isDirectory: false };
const dir = { isDirectory: true };

// The rules themselves are tested in src/formats/ignore.test.ts; this is the reading from disk.
test("loadIgnore reads .gitignore then .kilnignore (.kilnignore may re-include)", async () => {
  const root = mkdtempSync(join(tmpdir(), "kiln-ignore-"));
  try {
    mkdirSync(join(root, "sub"));
    writeFileSync(join(root, ".gitignore"), "*.dat\nkeep.dat\n");
    writeFileSync(join(root, ".kilnignore"), "!keep.dat\nbig/\n");
    const ig = await loadIgnore(root);
    expect(ig("huge.dat", file)).toBe(true);
    expect(ig("keep.dat", file)).toBe(false);
    expect(ig("big", dir)).toBe(true);
    expect(ig("server.js", file)).toBe(false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { folderIgnore } from "../formats/ignore.ts";
import { loadIgnore } from "./ignore.ts";

const file = { isDirectory: false };
const dir = { isDirectory: true };
const match = (text: string) => folderIgnore([{ name: ".gitignore", text }]);

test(".git and node_modules are always left out, at any depth", () => {
  const ig = match("");
  expect(ig(".git", dir)).toBe(true);
  expect(ig("node_modules", dir)).toBe(true);
  expect(ig("packages/a/node_modules", dir)).toBe(true);
  expect(ig("src/index.js", file)).toBe(false);
});

test("a pattern without a slash matches at any depth; with one it is anchored", () => {
  const ig = match("*.log\n/dist\nbuild/out\n");
  expect(ig("a.log", file)).toBe(true);
  expect(ig("deep/down/b.log", file)).toBe(true);
  expect(ig("dist", dir)).toBe(true);
  expect(ig("src/dist", dir)).toBe(false);
  expect(ig("build/out", dir)).toBe(true);
  expect(ig("x/build/out", dir)).toBe(false);
});

test("a trailing slash matches directories only", () => {
  const ig = match("cache/\n");
  expect(ig("cache", dir)).toBe(true);
  expect(ig("a/cache", dir)).toBe(true);
  expect(ig("cache", file)).toBe(false);
});

test("negation re-includes; the last matching rule wins; comments and blanks are skipped", () => {
  const ig = match("# secrets\n\n*.env\n!example.env\n");
  expect(ig("prod.env", file)).toBe(true);
  expect(ig("example.env", file)).toBe(false);
  expect(ig("#secrets", file)).toBe(false);
});

test("** and character classes", () => {
  const ig = match("**/tmp\nlogs/**\nfile[0-9].txt\n?.bin\n");
  expect(ig("tmp", dir)).toBe(true);
  expect(ig("a/b/tmp", dir)).toBe(true);
  expect(ig("logs/x/y.txt", file)).toBe(true);
  expect(ig("logs", dir)).toBe(false);
  expect(ig("file7.txt", file)).toBe(true);
  expect(ig("filex.txt", file)).toBe(false);
  expect(ig("a.bin", file)).toBe(true);
  expect(ig("ab.bin", file)).toBe(false);
});

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

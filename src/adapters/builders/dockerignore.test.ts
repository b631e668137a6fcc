import { describe, expect, test } from "bun:test";
import { ignoreMatcher, parseDockerignore } from "./dockerignore.ts";

const file = { isDirectory: false };
const dir = { isDirectory: true };

test("parseDockerignore drops comments and blank lines", () => {
  expect(parseDockerignore("# c\n\nnode_modules\r\n  *.log  \n")).toEqual(["node_modules", "*.log"]);
});

describe("ignoreMatcher", () => {
  test("no patterns: nothing ignored", () => {
    expect(ignoreMatcher([])("a", file)).toBe(false);
  });

  test("a name matches at the root only; its subtree goes with it", () => {
    const ignore = ignoreMatcher(["node_modules", "/.git"]);
    expect(ignore("node_modules", dir)).toBe(true);
    expect(ignore("node_modules/x/y.js", file)).toBe(true);
    expect(ignore(".git", dir)).toBe(true);
    expect(ignore("pkg/node_modules", dir)).toBe(false);
  });

  test("* and ? stay within a segment; ** crosses them", () => {
    const ignore = ignoreMatcher(["*.log", "doc?", "**/*.tmp", "build/**"]);
    expect(ignore("a.log", file)).toBe(true);
    expect(ignore("sub/a.log", file)).toBe(false);
    expect(ignore("docs", dir)).toBe(true);
    expect(ignore("doc", dir)).toBe(false);
    expect(ignore("x.tmp", file)).toBe(true);
    expect(ignore("a/b/c/x.tmp", file)).toBe(true);
    expect(ignore("build/a/b", file)).toBe(true);
    expect(ignore("build", dir)).toBe(false);
  });

  test("the last matching line wins; ! re-includes", () => {
    const ignore = ignoreMatcher(["*.md", "!README.md", "secret*", "!secret.example", "secret.example"]);
    expect(ignore("CHANGES.md", file)).toBe(true);
    expect(ignore("README.md", file)).toBe(false);
    expect(ignore("secret.example", file)).toBe(true);
  });

  test("an excluded directory is still walked when an exception may match inside it", () => {
    const ignore = ignoreMatcher(["node_modules", "!node_modules/keep"]);
    expect(ignore("node_modules", dir)).toBe(false);
    expect(ignore("node_modules/other", dir)).toBe(true);
    expect(ignore("node_modules/keep", dir)).toBe(false);
    expect(ignore("node_modules/keep/index.js", file)).toBe(false);
    expect(ignore("node_modules/x.js", file)).toBe(true);
  });

  test("dots and regex characters are literal; paths are cleaned", () => {
    const ignore = ignoreMatcher([".env", "a+b(1).txt", "./dist/", "x/../y"]);
    expect(ignore(".env", file)).toBe(true);
    expect(ignore("xenv", file)).toBe(false);
    expect(ignore("a+b(1).txt", file)).toBe(true);
    expect(ignore("dist", dir)).toBe(true);
    expect(ignore("y", file)).toBe(true);
  });

  test("character classes and escapes", () => {
    const ignore = ignoreMatcher(["[ab].txt", "\\*star"]);
    expect(ignore("a.txt", file)).toBe(true);
    expect(ignore("c.txt", file)).toBe(false);
    expect(ignore("*star", file)).toBe(true);
    expect(ignore("xstar", file)).toBe(false);
  });
});

import { describe, expect, test } from "bun:test";
import { StepError } from "../../core/errors.ts";
import { ancestors, normalizeEntryPath, symlinkStaysInside } from "./tarball-rules.ts";

describe("normalizeEntryPath", () => {
  test("strips ./, empty and . components and the trailing slash", () => {
    expect(normalizeEntryPath("./src/a.ts", 100)).toBe("src/a.ts");
    expect(normalizeEntryPath("././src//./b/", 100)).toBe("src/b");
    expect(normalizeEntryPath("./", 100)).toBe("");
    expect(normalizeEntryPath("...", 100)).toBe("...");
    expect(normalizeEntryPath("a..b/c", 100)).toBe("a..b/c");
  });

  test("refuses '..' anywhere, absolute paths, NULs", () => {
    expect(() => normalizeEntryPath("../x", 100)).toThrow('tarball entry "../x" escapes the source directory');
    expect(() => normalizeEntryPath("a/../../x", 100)).toThrow("escapes the source directory");
    expect(() => normalizeEntryPath("a/..", 100)).toThrow("escapes the source directory");
    expect(() => normalizeEntryPath("/etc/passwd", 100)).toThrow('tarball entry "/etc/passwd" has an absolute path');
    expect(() => normalizeEntryPath("a\0b", 100)).toThrow("NUL");
    expect(() => normalizeEntryPath("../x", 100)).toThrow(StepError);
  });

  test("enforces the path length cap and the component limit", () => {
    expect(() => normalizeEntryPath("a/".repeat(60), 100)).toThrow("longer than 100 bytes");
    expect(() => normalizeEntryPath("x".repeat(256), 1000)).toThrow("component longer than 255");
  });
});

test("ancestors", () => {
  expect(ancestors("a/b/c")).toEqual(["a", "a/b"]);
  expect(ancestors("a")).toEqual([]);
});

describe("symlinkStaysInside", () => {
  const none = new Map<string, string>();
  test("relative targets inside are fine", () => {
    expect(symlinkStaysInside("main.ts", "src/index.ts", none)).toBe(true);
    expect(symlinkStaysInside("a/b/link", "../../c", none)).toBe(true);
    expect(symlinkStaysInside("a/link", ".", none)).toBe(true);
  });
  test("escaping or absolute targets are not", () => {
    expect(symlinkStaysInside("link", "..", none)).toBe(false);
    expect(symlinkStaysInside("a/b/link", "../../../etc", none)).toBe(false);
    expect(symlinkStaysInside("link", "/etc/passwd", none)).toBe(false);
    expect(symlinkStaysInside("link", "a/../../x", none)).toBe(false);
    expect(symlinkStaysInside("link", "", none)).toBe(false);
  });
  test("follows links created by the archive", () => {
    // a/b/up -> ../.. (the root: fine); a/b/t -> up/.. (the root's parent: escapes)
    const links = new Map([
      ["a/b/up", "../.."],
      ["a/b/t", "up/.."],
    ]);
    expect(symlinkStaysInside("a/b/up", "../..", links)).toBe(true);
    expect(symlinkStaysInside("a/b/t", "up/..", links)).toBe(false);
    // a link to an absolute link
    expect(symlinkStaysInside("x", "abs/y", new Map([["abs", "/etc"]]))).toBe(false);
    // loops are refused rather than followed forever
    expect(symlinkStaysInside("p", "q/z", new Map([["p", "q/z"], ["q", "p"]]))).toBe(false);
  });
});

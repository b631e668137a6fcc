import { describe, expect, test } from "bun:test";
import { KilnError } from "../core/errors.ts";
import { dockerignoreMatcher, folderIgnore, gitignoreMatcher, parseDockerignore, parseGitignore } from "./ignore.ts";

const file = { isDirectory: false };
const dir = { isDirectory: true };
const git = (...lines: string[]) => gitignoreMatcher(parseGitignore(lines.join("\n"), ".gitignore"));
const docker = (...lines: string[]) => dockerignoreMatcher(parseDockerignore(lines.join("\n"), ".dockerignore"));

/** The KilnError a dockerignore text fails with. */
function dockerError(text: string): KilnError {
  try {
    parseDockerignore(text, ".dockerignore");
  } catch (err) {
    if (err instanceof KilnError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(text)} was accepted`);
}

describe("gitignore", () => {
  test("rules keep their file, line and text", () => {
    const rules = parseGitignore("# c\n\n*.log\r\n!keep.log\n", ".kilnignore");
    expect(rules.map((r) => [r.file, r.line, r.text, r.negate])).toEqual([
      [".kilnignore", 3, "*.log", false],
      [".kilnignore", 4, "!keep.log", true],
    ]);
  });

  test("a pattern without a slash matches at any depth; with one it is anchored", () => {
    const ig = git("*.log", "/dist", "build/out");
    expect(ig("a.log", file)).toBe(true);
    expect(ig("deep/down/b.log", file)).toBe(true);
    expect(ig("dist", dir)).toBe(true);
    expect(ig("src/dist", dir)).toBe(false);
    expect(ig("build/out", dir)).toBe(true);
    expect(ig("x/build/out", dir)).toBe(false);
  });

  test("a trailing slash matches directories only, at any depth when it has no other slash", () => {
    const ig = git("cache/", "/out/tmp/");
    expect(ig("cache", dir)).toBe(true);
    expect(ig("a/cache", dir)).toBe(true);
    expect(ig("cache", file)).toBe(false);
    expect(ig("out/tmp", dir)).toBe(true);
    expect(ig("out/tmp", file)).toBe(false);
  });

  test("negation: the last matching rule wins, in both orders", () => {
    expect(git("*.env", "!example.env")("example.env", file)).toBe(false);
    expect(git("!example.env", "*.env")("example.env", file)).toBe(true);
    expect(git("*.env", "!example.env")("prod.env", file)).toBe(true);
  });

  test("**/x at any depth, x/** everything inside, a/**/b zero or more directories", () => {
    const ig = git("**/tmp", "logs/**", "a/**/b");
    expect(ig("tmp", dir)).toBe(true);
    expect(ig("x/y/tmp", dir)).toBe(true);
    expect(ig("logs/x/y.txt", file)).toBe(true);
    expect(ig("logs", dir)).toBe(false);
    expect(ig("a/b", file)).toBe(true);
    expect(ig("a/x/y/b", file)).toBe(true);
    expect(ig("a/xb", file)).toBe(false);
  });

  test("** inside a segment is a plain *", () => {
    const ig = git("/a**b");
    expect(ig("axyb", file)).toBe(true);
    expect(ig("ax/yb", file)).toBe(false);
  });

  test("* and ? stay within a segment; regex characters are literal", () => {
    const ig = git("/doc?", "/a+b(1).txt", "/.env");
    expect(ig("docs", dir)).toBe(true);
    expect(ig("doc", dir)).toBe(false);
    expect(ig("a+b(1).txt", file)).toBe(true);
    expect(ig("aab(1).txt", file)).toBe(false);
    expect(ig(".env", file)).toBe(true);
    expect(ig("xenv", file)).toBe(false);
  });

  test("character classes: ranges, [!…] and [^…], ] first, escapes, [:digit:]", () => {
    const ig = git("file[0-9].txt", "x[!a]", "y[^a]", "z[]]", "w[\\]a]", "n[[:digit:]]");
    expect(ig("file7.txt", file)).toBe(true);
    expect(ig("filex.txt", file)).toBe(false);
    expect(ig("xb", file)).toBe(true);
    expect(ig("xa", file)).toBe(false);
    expect(ig("yb", file)).toBe(true);
    expect(ig("ya", file)).toBe(false);
    expect(ig("z]", file)).toBe(true);
    expect(ig("w]", file)).toBe(true);
    expect(ig("wa", file)).toBe(true);
    expect(ig("n5", file)).toBe(true);
    expect(ig("nx", file)).toBe(false);
  });

  test("a class never matches a slash, negated or not", () => {
    const ig = git("/a[!x]b", "/c[%-0]d"); // "%-0" includes "/"
    expect(ig("a/b", file)).toBe(false);
    expect(ig("c/d", file)).toBe(false);
    expect(ig("c.d", file)).toBe(true);
  });

  test("a range out of order ([z-a]) makes its line match nothing; the rest of the file still applies", () => {
    const ig = git("[z-a]", "x[!z-a]", "y[z-ab]", "*.log");
    for (const p of ["a", "z", "m", "[z-a]", "z-a", "xq", "xz", "yb", "yz"]) expect(ig(p, file)).toBe(false);
    expect(ig("x.log", file)).toBe(true);
  });

  test("[] , a class left open, an unknown [:name:] and a trailing \\ match nothing (git does the same)", () => {
    for (const pattern of ["[]", "abc[", "[[:nope:]]", "abc\\"]) {
      const ig = git(pattern);
      for (const p of ["[]", "abc[", "abc", "a", "[[:nope:]]", "abc\\"]) expect(ig(p, file)).toBe(false);
    }
  });

  test("\\[, \\#, \\! and \\* stand for themselves", () => {
    const ig = git("\\[x]", "\\#notes", "\\!bang", "\\*star");
    expect(ig("[x]", file)).toBe(true);
    expect(ig("x", file)).toBe(false);
    expect(ig("#notes", file)).toBe(true);
    expect(ig("!bang", file)).toBe(true);
    expect(ig("*star", file)).toBe(true);
    expect(ig("xstar", file)).toBe(false);
  });

  test("trailing spaces are dropped unless escaped; CRLF and a BOM are tolerated", () => {
    const ig = gitignoreMatcher(parseGitignore("\uFEFFa.txt  \r\nb\\ \r\n", ".gitignore"));
    expect(ig("a.txt", file)).toBe(true);
    expect(ig("b ", file)).toBe(true);
    expect(ig("b", file)).toBe(false);
  });

  test("non-ASCII names", () => {
    const ig = git("ünï?ødé.txt", "[é]");
    expect(ig("ünïcødé.txt", file)).toBe(true);
    expect(ig("é", file)).toBe(true);
  });
});

describe("folderIgnore", () => {
  test(".git and node_modules are always left out, at any depth", () => {
    const ig = folderIgnore([]);
    expect(ig(".git", dir)).toBe(true);
    expect(ig("packages/a/node_modules", dir)).toBe(true);
    expect(ig("src/index.js", file)).toBe(false);
  });

  test("files apply in order: .kilnignore may re-include what .gitignore left out", () => {
    const ig = folderIgnore([
      { name: ".gitignore", text: "*.dat\n" },
      { name: ".kilnignore", text: "!keep.dat\n" },
    ]);
    expect(ig("huge.dat", file)).toBe(true);
    expect(ig("keep.dat", file)).toBe(false);
  });
});

describe("dockerignore", () => {
  test("comments (# in column 1 only), blank lines, spaces and CRLF", () => {
    const rules = parseDockerignore("# c\n\nnode_modules\r\n  *.log  \n  # not a comment\n", ".dockerignore");
    expect(rules.map((r) => [r.line, r.pattern])).toEqual([
      [3, "node_modules"],
      [4, "*.log"],
      [5, "# not a comment"],
    ]);
  });

  test("no patterns: nothing ignored", () => {
    expect(docker()("a", file)).toBe(false);
  });

  test("a name matches at the root only; its subtree goes with it", () => {
    const ignore = docker("node_modules", "/.git");
    expect(ignore("node_modules", dir)).toBe(true);
    expect(ignore("node_modules/x/y.js", file)).toBe(true);
    expect(ignore(".git", dir)).toBe(true);
    expect(ignore("pkg/node_modules", dir)).toBe(false);
  });

  test("* and ? stay within a segment; ** crosses them", () => {
    const ignore = docker("*.log", "doc?", "**/*.tmp", "build/**");
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
    const ignore = docker("*.md", "!README.md", "secret*", "!secret.example", "secret.example");
    expect(ignore("CHANGES.md", file)).toBe(true);
    expect(ignore("README.md", file)).toBe(false);
    expect(ignore("secret.example", file)).toBe(true);
  });

  test("an excluded directory is still walked when an exception may match inside it", () => {
    const ignore = docker("node_modules", "!node_modules/keep");
    expect(ignore("node_modules", dir)).toBe(false);
    expect(ignore("node_modules/other", dir)).toBe(true);
    expect(ignore("node_modules/keep", dir)).toBe(false);
    expect(ignore("node_modules/keep/index.js", file)).toBe(false);
    expect(ignore("node_modules/x.js", file)).toBe(true);
  });

  test("the walk follows wildcards in an exception, and stops where it cannot match", () => {
    const src = docker("src", "!src/*/keep.txt");
    expect(src("src", dir)).toBe(false);
    expect(src("src/a", dir)).toBe(false);
    expect(src("src/a/keep.txt", file)).toBe(false);
    expect(src("src/a/other.txt", file)).toBe(true);
    expect(src("src/a/b", dir)).toBe(true);
    const vendor = docker("vendor", "!**/*.go");
    expect(vendor("vendor/x", dir)).toBe(false);
    expect(vendor("vendor/x/y.go", file)).toBe(false);
    expect(vendor("vendor/x/y.c", file)).toBe(true);
    expect(docker("*.md", "!docs/*.md")("x.md", file)).toBe(true);
    expect(docker("dist", "!*.md")("dist", dir)).toBe(true); // "*.md" is one segment: nothing inside dist
  });

  test("dots and regex characters are literal; paths are cleaned", () => {
    const ignore = docker(".env", "a+b(1).txt", "./dist/", "x/../y");
    expect(ignore(".env", file)).toBe(true);
    expect(ignore("xenv", file)).toBe(false);
    expect(ignore("a+b(1).txt", file)).toBe(true);
    expect(ignore("dist", dir)).toBe(true);
    expect(ignore("y", file)).toBe(true);
  });

  test("character classes and escapes (Go syntax: ^ negates, ! is a member)", () => {
    const ignore = docker("[ab].txt", "\\*star", "x[^a]", "y[!a]", "\\[z]");
    expect(ignore("a.txt", file)).toBe(true);
    expect(ignore("c.txt", file)).toBe(false);
    expect(ignore("*star", file)).toBe(true);
    expect(ignore("xstar", file)).toBe(false);
    expect(ignore("xb", file)).toBe(true);
    expect(ignore("xa", file)).toBe(false);
    expect(ignore("y!", file)).toBe(true);
    expect(ignore("ya", file)).toBe(true);
    expect(ignore("yb", file)).toBe(false);
    expect(ignore("[z]", file)).toBe(true);
  });

  test("what Docker rejects is a bad_request naming the file and line", () => {
    const cases: [string, RegExp][] = [
      ["ok\n[z-a]", /^\.dockerignore line 2: "\[z-a\]": the range z-a is out of order$/],
      ["[]", /^\.dockerignore line 1: "\[\]": .*escaped/],
      ["a\n\nabc[", /^\.dockerignore line 3: "abc\[": a \[ is never closed$/],
      ["[a-]", /^\.dockerignore line 1: /],
      ["abc\\", /^\.dockerignore line 1: "abc\\\\": a trailing \\ escapes nothing$/],
      ["x\n  !  ", /^\.dockerignore line 2: "!" alone/],
    ];
    for (const [text, message] of cases) {
      const err = dockerError(text);
      expect(err.kind).toBe("bad_request");
      expect(err.message).toMatch(message);
      expect(err.hint).toBeTruthy();
    }
  });
});

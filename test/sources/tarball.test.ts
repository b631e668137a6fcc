/**
 * TarballFetcher against the real filesystem: good archives unpack as-is; hostile ones are
 * refused with a StepError naming the entry and the rule, leaving no destDir and no file
 * anywhere else.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StepError } from "../../src/core/errors.ts";
import type { LogStream } from "../../src/core/logs.ts";
import { FIELD, headerChecksum } from "../../src/formats/tar/format.ts";
import { type TarInputEntry, encodeEntry, encodeTar, endOfArchive } from "../../src/formats/tar/writer.ts";
import { packDirectory } from "../../src/adapters/fs/pack-directory.ts";
import { type TarballCaps, TarballFetcher } from "../../src/adapters/sources/tarball.ts";

let work: string;
let parent: string;
let dest: string;
let upload: string;
let logs: Array<[LogStream, string]>;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "kiln-tarball-"));
  parent = join(work, "deployments", "d1");
  dest = join(parent, "src");
  upload = join(work, "upload.tar");
  mkdirSync(parent, { recursive: true });
  mkdirSync(join(work, "outside"));
  logs = [];
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const log = (stream: LogStream, text: string) => logs.push([stream, text]);

async function fetchBytes(bytes: Uint8Array, caps: Partial<TarballCaps> = {}) {
  writeFileSync(upload, bytes);
  return new TarballFetcher(caps).fetch({ kind: "tarball", file: upload }, dest, { log });
}

/** Expect a refusal matching `message`, and no trace of the extraction anywhere. */
async function expectRefused(bytes: Uint8Array, message: string | RegExp, caps: Partial<TarballCaps> = {}) {
  let error: unknown;
  try {
    await fetchBytes(bytes, caps);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(StepError);
  expect((error as StepError).kind).toBe("bad_request");
  expect((error as StepError).message).toMatch(message);
  expect(existsSync(dest)).toBe(false);
  expect(readdirSync(parent)).toEqual([]); // no staging dir left behind
  expect(readdirSync(join(work, "outside"))).toEqual([]);
  expect(readdirSync(work).sort()).toEqual(["deployments", "outside", "upload.tar"]);
  return error as StepError;
}

const tar = (entries: TarInputEntry[]) => encodeTar(entries);

describe("good archives", () => {
  test("unpacks files, dirs, exec bits and inner symlinks as-is, stripping ./", async () => {
    const result = await fetchBytes(
      tar([
        { path: "./", type: "directory" },
        { path: "./app/", type: "directory" },
        { path: "./app/package.json", type: "file", data: '{"name":"x"}' },
        { path: "./app/bin/start", type: "file", data: "#!/bin/sh\n", mode: 0o755 },
        { path: "./app/secret.txt", type: "file", data: "s", mode: 0o4700 },
        { path: "./app/main.js", type: "symlink", linkname: "bin/start" },
        { path: "./app/bin/up", type: "symlink", linkname: "../package.json" },
        { path: "./app/same", type: "hardlink", linkname: "./app/package.json" },
        { path: "./empty/", type: "directory" },
      ]),
    );
    expect(result).toEqual({});
    expect(readdirSync(dest).sort()).toEqual(["app", "empty"]);
    expect(readFileSync(join(dest, "app/package.json"), "utf8")).toBe('{"name":"x"}');
    expect(statSync(join(dest, "app/bin/start")).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dest, "app/package.json")).mode & 0o7777).toBe(0o644);
    expect(statSync(join(dest, "app/secret.txt")).mode & 0o7777).toBe(0o744); // setuid dropped, x kept
    expect(readlinkSync(join(dest, "app/main.js"))).toBe("bin/start");
    expect(readFileSync(join(dest, "app/bin/up"), "utf8")).toBe('{"name":"x"}');
    expect(statSync(join(dest, "app/same")).ino).toBe(statSync(join(dest, "app/package.json")).ino);
    expect(readdirSync(parent)).toEqual(["src"]);
    expect(logs.every(([s]) => s === "system")).toBe(true);
    expect(logs.at(-1)![1]).toMatch(/unpacked 9 entries/);
  });

  test("tar.gz made by the writer from a real directory", async () => {
    const src = join(work, "outside-src");
    mkdirSync(join(src, "lib"), { recursive: true });
    writeFileSync(join(src, "index.js"), "require('./lib/a')");
    writeFileSync(join(src, "lib/a.js"), "module.exports = 1", { mode: 0o755 });
    const tgz = await packDirectory(src, { gzip: true });
    rmSync(src, { recursive: true });
    await fetchBytes(tgz);
    expect(readFileSync(join(dest, "index.js"), "utf8")).toBe("require('./lib/a')");
    expect(statSync(join(dest, "lib/a.js")).mode & 0o111).toBe(0o111);
  });

  test("tar.gz made by GNU tar", async () => {
    const src = join(work, "outside-src");
    mkdirSync(join(src, "x"), { recursive: true });
    writeFileSync(join(src, "x/y.txt"), "y");
    const out = join(work, "gnu.tgz");
    expect(Bun.spawnSync(["tar", "-czf", out, "-C", src, "."]).exitCode).toBe(0);
    const bytes = readFileSync(out);
    rmSync(src, { recursive: true });
    rmSync(out);
    await fetchBytes(bytes);
    expect(readFileSync(join(dest, "x/y.txt"), "utf8")).toBe("y");
  });

  test("a later entry replaces an earlier file", async () => {
    await fetchBytes(
      tar([
        { path: "a.txt", type: "file", data: "old" },
        { path: "a.txt", type: "file", data: "new" },
      ]),
    );
    expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("new");
  });
});

describe("path rules", () => {
  test("'..' escapes", async () => {
    const err = await expectRefused(tar([{ path: "../x", type: "file", data: "pwned" }]), 'tarball entry "../x" escapes the source directory');
    expect(err.hint).toBeDefined();
    expect(existsSync(join(parent, "x"))).toBe(false);
  });

  test("'..' in the middle", async () => {
    await expectRefused(
      tar([
        { path: "ok.txt", type: "file", data: "fine" },
        { path: "a/../../../outside/x", type: "file", data: "pwned" },
      ]),
      '"a/../../../outside/x" escapes the source directory',
    );
  });

  test("absolute paths", async () => {
    const target = join(work, "outside", "abs.txt");
    await expectRefused(tar([{ path: target, type: "file", data: "pwned" }]), `"${target}" has an absolute path`);
  });

  test("path length cap", async () => {
    await expectRefused(tar([{ path: `${"d/".repeat(40)}f`, type: "file" }]), "longer than 50 bytes", { maxPathLength: 50 });
  });
});

describe("link rules", () => {
  test("symlink pointing outside", async () => {
    await expectRefused(tar([{ path: "out", type: "symlink", linkname: "../../../outside" }]), '"out" is a symlink to "../../../outside", which points outside');
  });

  test("absolute symlink", async () => {
    await expectRefused(tar([{ path: "etc", type: "symlink", linkname: "/etc" }]), '"etc" is a symlink to "/etc"');
  });

  test("writing through a symlink (even one that points inside)", async () => {
    await expectRefused(
      tar([
        { path: "sub/", type: "directory" },
        { path: "link", type: "symlink", linkname: "sub" },
        { path: "link/x.txt", type: "file", data: "through" },
      ]),
      '"link/x.txt" goes through the symlink "link"',
    );
  });

  test("replacing a file with an escaping symlink, then writing through it", async () => {
    await expectRefused(
      tar([
        { path: "x", type: "file", data: "a" },
        { path: "x", type: "symlink", linkname: `../../../outside` },
        { path: "x/pwned", type: "file", data: "b" },
      ]),
      '"x" is a symlink to "../../../outside"',
    );
  });

  test("a chain of symlinks that escapes only together", async () => {
    // a/b/up -> ../.. is the root; a/b/t -> up/.. is the root's parent
    await expectRefused(
      tar([
        { path: "a/b/up", type: "symlink", linkname: "../.." },
        { path: "a/b/t", type: "symlink", linkname: "up/.." },
      ]),
      '"a/b/t" is a symlink to "up/..", which points outside',
    );
  });

  test("the same chain in the other order is caught on the finished tree", async () => {
    await expectRefused(
      tar([
        { path: "a/b/t", type: "symlink", linkname: "up/.." },
        { path: "a/b/up", type: "symlink", linkname: "../.." },
      ]),
      '"a/b/t" is a symlink to "up/..", which resolves outside',
    );
  });

  test("hard link outside", async () => {
    await expectRefused(tar([{ path: "h", type: "hardlink", linkname: "../../../etc/passwd" }]), '"h" is a hard link to "../../../etc/passwd", which is outside');
    await expectRefused(tar([{ path: "h", type: "hardlink", linkname: "/etc/passwd" }]), '"h" is a hard link to "/etc/passwd", which is outside');
  });

  test("hard link to a path not extracted yet, or to a symlink", async () => {
    await expectRefused(
      tar([
        { path: "h", type: "hardlink", linkname: "later.txt" },
        { path: "later.txt", type: "file", data: "x" },
      ]),
      '"h" is a hard link to "later.txt", which is not a file extracted before it',
    );
    await expectRefused(
      tar([
        { path: "s", type: "symlink", linkname: "." },
        { path: "h", type: "hardlink", linkname: "s" },
      ]),
      '"h" is a hard link to "s", which is not a file',
    );
  });
});

describe("entry types", () => {
  test.each([
    ["character-device", "is a character-device"],
    ["block-device", "is a block-device"],
    ["fifo", "is a fifo"],
  ] as const)("%s is refused", async (type, message) => {
    await expectRefused(tar([{ path: "dev", type }]), `"dev" ${message}`);
  });

  test("unsupported type (GNU sparse)", async () => {
    const sparse = encodeEntry({ path: "sparse", type: "file", data: "x" });
    sparse[FIELD.typeflag[0]] = "S".charCodeAt(0);
    const sum = headerChecksum(sparse.subarray(0, 512));
    sparse.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), FIELD.checksum[0]);
    await expectRefused(new Uint8Array([...sparse, ...endOfArchive()]), `"sparse" has an unsupported type 'S'`);
  });

  test("a file under a file", async () => {
    await expectRefused(
      tar([
        { path: "f", type: "file", data: "1" },
        { path: "f/g", type: "file", data: "2" },
      ]),
      '"f/g" is inside "f", which is a file',
    );
  });

  test("a file replacing a directory", async () => {
    await expectRefused(
      tar([
        { path: "d/x", type: "file", data: "1" },
        { path: "d", type: "file", data: "2" },
      ]),
      '"d" would replace a directory',
    );
  });
});

describe("caps", () => {
  test("file count", async () => {
    const entries: TarInputEntry[] = Array.from({ length: 6 }, (_, i) => ({ path: `f${i}`, type: "file" as const, data: "x" }));
    await fetchBytes(tar(entries.slice(0, 5)), { maxFiles: 5 });
    rmSync(dest, { recursive: true });
    await expectRefused(tar(entries), "tarball has more than 5 entries", { maxFiles: 5 });
  });

  test("total size, checked before the data is inflated", async () => {
    const big = encodeTar([{ path: "zeros", type: "file", data: new Uint8Array(8 * 1024 * 1024) }], { gzip: true });
    expect(big.length).toBeLessThan(100 * 1024);
    await expectRefused(big, /tarball unpacks to more than 1 MiB \(at entry "zeros"\)/, { maxTotalBytes: 1024 * 1024 });
  });

  test("defaults", () => {
    expect(new TarballFetcher().caps).toEqual({ maxTotalBytes: 512 * 1024 * 1024, maxFiles: 20_000, maxPathLength: 1024 });
  });
});

describe("bad input", () => {
  test("not a tar archive", async () => {
    const err = await expectRefused(new TextEncoder().encode("<html>not a tarball</html>".repeat(40)), "not a valid tar or tar.gz archive");
    expect(err.hint).toContain("tar czf");
  });

  test("truncated tar.gz", async () => {
    const tgz = encodeTar([{ path: "a", type: "file", data: crypto.getRandomValues(new Uint8Array(20000)) }], { gzip: true });
    await expectRefused(tgz.slice(0, tgz.length / 2), "not a valid tar or tar.gz archive");
  });

  test("missing upload", async () => {
    const fetcher = new TarballFetcher();
    await expect(fetcher.fetch({ kind: "tarball", file: join(work, "nope.tar") }, dest, { log })).rejects.toThrow("missing");
    expect(existsSync(dest)).toBe(false);
  });

  test("cancellation leaves nothing", async () => {
    writeFileSync(upload, tar([{ path: "a", type: "file", data: "1" }]));
    const ac = new AbortController();
    ac.abort();
    await expect(new TarballFetcher().fetch({ kind: "tarball", file: upload }, dest, { log, signal: ac.signal })).rejects.toThrow();
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});

test("a symlink is never followed when checking the destination", async () => {
  // destDir itself being a (dangling) symlink counts as existing
  const { symlinkSync } = await import("node:fs");
  symlinkSync(join(work, "outside", "target"), dest);
  await expect(fetchBytes(tar([{ path: "a", type: "file", data: "1" }]))).rejects.toThrow("already exists");
  expect(lstatSync(dest).isSymbolicLink()).toBe(true);
  expect(readdirSync(join(work, "outside"))).toEqual([]);
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StepError } from "../../core/errors.ts";
import { MANIFEST_MAX_BYTES, existsBeneath, findLinkOut, isFileBeneath, readBeneath, readdirBeneath, statBeneath } from "./beneath.ts";

let base: string; // holds the tree and a "host" file beside it
let root: string;
let hostFile: string;
const MARKER = `KILN-HOST-MARKER-${process.pid}-${Date.now().toString(36)}`;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "kiln-beneath-"));
  root = join(base, "src");
  hostFile = join(base, "host-secret.txt");
  writeFileSync(hostFile, `${MARKER}\n`);
  mkdirSync(join(root, "real/deep"), { recursive: true });
  writeFileSync(join(root, "package.json"), '{"name":"app"}');
  writeFileSync(join(root, "real/deep/file.txt"), "inside");
  symlinkSync("/etc/passwd", join(root, "abs-link")); // absolute, out
  symlinkSync("../host-secret.txt", join(root, "rel-out")); // relative, climbs out
  symlinkSync("/etc", join(root, "etc-dir")); // a directory link out: etc-dir/passwd
  symlinkSync("chain-2", join(root, "chain-1")); // chain-1 → chain-2 → out
  symlinkSync("real/../../host-secret.txt", join(root, "chain-2"));
  symlinkSync("real/deep/file.txt", join(root, "inside-link")); // stays inside
  symlinkSync("deep", join(root, "real/deep-alias")); // a directory link inside
  symlinkSync("loop-b", join(root, "loop-a"));
  symlinkSync("loop-a", join(root, "loop-b"));
  symlinkSync("..", join(root, "up")); // up/host-secret.txt
  symlinkSync("missing", join(root, "dangling"));
  Bun.spawnSync(["mkfifo", join(root, "fifo")]);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function refusal(p: Promise<unknown>): Promise<StepError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StepError) return err;
    throw err;
  }
  throw new Error("expected a StepError");
}

describe("links out of the tree are refused, naming the file, quoting nothing", () => {
  const cases: [string, string, RegExp][] = [
    ["an absolute link to /etc/passwd", "abs-link", /^abs-link is a symbolic link out of the source tree; Kiln does not follow it$/],
    ["a relative link climbing out", "rel-out", /^rel-out is a symbolic link out of the source tree/],
    ["a file under a directory link to /etc", "etc-dir/passwd", /^etc-dir\/passwd goes through etc-dir, a symbolic link out of the source tree/],
    ["a chain whose last link leaves", "chain-1", /^chain-1 goes through chain-2, a symbolic link out/],
    ["a link to .. then a file", "up/host-secret.txt", /^up\/host-secret.txt goes through up, a symbolic link out/],
    ["a path climbing with ..", "../host-secret.txt", /^\.\.\/host-secret.txt leads out of the source tree/],
    ["a loop", "loop-a", /^loop-a is a loop of symbolic links$/],
  ];
  test.each(cases)("%s", async (_what, rel, message) => {
    const calls = [readBeneath, statBeneath, existsBeneath, isFileBeneath, readdirBeneath] as const;
    for (const call of calls) {
      const err = await refusal(call(root, rel));
      expect(err.message).toMatch(message);
      expect(`${err.message} ${err.hint}`).not.toContain(MARKER);
      expect(`${err.message} ${err.hint}`).not.toContain("root:");
    }
  });
});

describe("what stays inside is read", () => {
  test("a regular file", async () => {
    expect(await readBeneath(root, "package.json")).toBe('{"name":"app"}');
    expect(await statBeneath(root, "package.json")).toEqual({ kind: "file", size: 14 });
  });

  test("a link inside the tree is followed", async () => {
    expect(await readBeneath(root, "inside-link")).toBe("inside");
    expect(await readBeneath(root, "real/deep-alias/file.txt")).toBe("inside");
    expect(await readBeneath(root, "real/deep/../deep/file.txt")).toBe("inside");
  });

  test("absent paths, dangling links and paths through a file are null, not errors", async () => {
    expect(await readBeneath(root, "nope.json")).toBeNull();
    expect(await readBeneath(root, "dangling")).toBeNull();
    expect(await readBeneath(root, "package.json/x")).toBeNull();
    expect(await existsBeneath(root, "nope")).toBe(false);
    expect(await statBeneath(root, "real")).toEqual({ kind: "directory", size: expect.any(Number) });
  });

  test("a FIFO is never opened: no text, kind other", async () => {
    expect(await readBeneath(root, "fifo")).toBeNull();
    expect((await statBeneath(root, "fifo"))?.kind).toBe("other");
    expect(await isFileBeneath(root, "fifo")).toBe(false);
  });

  test("a device reached through a link is out of the tree", async () => {
    const dir = mkdtempSync(join(base, "dev-"));
    symlinkSync("/dev/zero", join(dir, "package.json"));
    expect((await refusal(readBeneath(dir, "package.json"))).message).toContain("symbolic link out of the source tree");
  });

  test("readdir lists links as links, sorted", async () => {
    const entries = await readdirBeneath(root);
    expect(entries.find((e) => e.name === "etc-dir")).toEqual({ name: "etc-dir", kind: "symlink" });
    expect(entries.find((e) => e.name === "real")).toEqual({ name: "real", kind: "directory" });
    expect(entries.map((e) => e.name)).toEqual([...entries.map((e) => e.name)].sort());
    expect(await readdirBeneath(root, "real/deep-alias")).toEqual([{ name: "file.txt", kind: "file" }]);
  });
});

describe("size caps", () => {
  test("a huge (sparse) file fails naming it, without being read", async () => {
    const dir = mkdtempSync(join(base, "huge-"));
    writeFileSync(join(dir, "package.json"), "");
    truncateSync(join(dir, "package.json"), 2 * 1024 * 1024 * 1024); // 2 GiB, no blocks
    const err = await refusal(readBeneath(dir, "package.json"));
    expect(err.message).toBe("package.json is larger than 1 MiB");
    expect(MANIFEST_MAX_BYTES).toBe(1024 * 1024);
  });

  test("head: true reads only the first bytes", async () => {
    const dir = mkdtempSync(join(base, "head-"));
    writeFileSync(join(dir, "yarn.lock"), `__metadata:\n${"x".repeat(100_000)}`);
    expect(await readBeneath(dir, "yarn.lock", { maxBytes: 16, head: true })).toBe("__metadata:\nxxxx");
    expect((await refusal(readBeneath(dir, "yarn.lock", { maxBytes: 1024 }))).message).toBe("yarn.lock is larger than 1 KiB");
  });
});

describe("findLinkOut", () => {
  test("names the first link leading out, walking the whole tree", async () => {
    const dir = mkdtempSync(join(base, "scan-"));
    mkdirSync(join(dir, "a/b"), { recursive: true });
    symlinkSync("../x", join(dir, "a/in"));
    symlinkSync("../../../etc", join(dir, "a/b/out"));
    expect((await findLinkOut(dir))?.message).toBe("a/b/out is a symbolic link out of the source tree; Kiln does not follow it");
  });

  test("null when every link stays inside", async () => {
    const dir = mkdtempSync(join(base, "scan-ok-"));
    mkdirSync(join(dir, "a"));
    symlinkSync("a", join(dir, "alias"));
    symlinkSync("missing", join(dir, "dangling"));
    expect(await findLinkOut(dir)).toBeNull();
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTarEntries } from "../../formats/tar/reader.ts";
import { packDirectory } from "./pack-directory.ts";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-tarw-"));
  mkdirSync(join(dir, "src/lib"), { recursive: true });
  mkdirSync(join(dir, "node_modules/x"), { recursive: true });
  writeFileSync(join(dir, "package.json"), '{"name":"app"}');
  writeFileSync(join(dir, "src/index.ts"), "console.log(1)\n");
  writeFileSync(join(dir, "src/lib/b.ts"), "x".repeat(1000));
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n");
  chmodSync(join(dir, "run.sh"), 0o755);
  writeFileSync(join(dir, "node_modules/x/index.js"), "");
  symlinkSync("src/index.ts", join(dir, "main.ts"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("packDirectory", () => {
  test("packs files, dirs and symlinks with modes, sorted, parents first", async () => {
    const entries = await readTarEntries(await packDirectory(dir));
    expect(entries.map((e) => `${e.entry.type}:${e.entry.path}`)).toEqual([
      "symlink:main.ts",
      "directory:node_modules/",
      "directory:node_modules/x/",
      "file:node_modules/x/index.js",
      "file:package.json",
      "file:run.sh",
      "directory:src/",
      "file:src/index.ts",
      "directory:src/lib/",
      "file:src/lib/b.ts",
    ]);
    const byPath = new Map(entries.map((e) => [e.entry.path, e]));
    expect(byPath.get("main.ts")!.entry.linkname).toBe("src/index.ts");
    expect(byPath.get("run.sh")!.entry.mode).toBe(0o755);
    expect(byPath.get("package.json")!.entry.mode & 0o111).toBe(0);
    expect(new TextDecoder().decode(byPath.get("src/lib/b.ts")!.data)).toBe("x".repeat(1000));
  });

  test("ignore predicate drops paths and whole subtrees", async () => {
    const seen: string[] = [];
    const tar = await packDirectory(dir, {
      ignore: (p, info) => {
        seen.push(`${p}${info.isDirectory ? "/" : ""}`);
        return p === "node_modules" || p.endsWith(".sh");
      },
    });
    const paths = (await readTarEntries(tar)).map((e) => e.entry.path);
    expect(paths).not.toContain("run.sh");
    expect(paths.some((p) => p.startsWith("node_modules"))).toBe(false);
    expect(seen).toContain("node_modules/");
    expect(seen).not.toContain("node_modules/x/");
  });

  test("prefix: the tree goes under one folder; ignore still sees paths without it; links keep their targets", async () => {
    const tar = await packDirectory(dir, { prefix: "source", ignore: (p) => p === "node_modules" });
    const entries = (await readTarEntries(tar)).map((e) => e.entry);
    expect(entries.map((e) => `${e.type}:${e.path}`)).toEqual([
      "directory:source/",
      "symlink:source/main.ts",
      "file:source/package.json",
      "file:source/run.sh",
      "directory:source/src/",
      "file:source/src/index.ts",
      "directory:source/src/lib/",
      "file:source/src/lib/b.ts",
    ]);
    expect(entries.find((e) => e.path === "source/main.ts")?.linkname).toBe("src/index.ts");
    await expect(packDirectory(dir, { prefix: "../up" })).rejects.toThrow("not a plain folder name");
  });

  test("links out of the tree stay links: nothing is read through them", async () => {
    const hostile = mkdtempSync(join(tmpdir(), "kiln-tarw-links-"));
    try {
      const marker = `KILN-HOST-MARKER-${process.pid}`;
      writeFileSync(join(hostile, "..", `kiln-tarw-secret-${process.pid}`), marker);
      symlinkSync(`../kiln-tarw-secret-${process.pid}`, join(hostile, "package.json"));
      symlinkSync("/etc", join(hostile, "etc"));
      symlinkSync("/etc/passwd", join(hostile, "Dockerfile"));
      const tar = await packDirectory(hostile);
      const entries = await readTarEntries(tar);
      expect(entries.map((e) => `${e.entry.type}:${e.entry.path}->${e.entry.linkname}`)).toEqual([
        "symlink:Dockerfile->/etc/passwd",
        "symlink:etc->/etc",
        `symlink:package.json->../kiln-tarw-secret-${process.pid}`,
      ]);
      expect(entries.every((e) => e.data.length === 0)).toBe(true);
      const text = Buffer.from(tar).toString("latin1");
      expect(text).not.toContain(marker);
      expect(text).not.toContain("root:x:");
    } finally {
      rmSync(hostile, { recursive: true, force: true });
      rmSync(join(hostile, "..", `kiln-tarw-secret-${process.pid}`), { force: true });
    }
  });

  test("a FIFO in the tree is skipped, never opened", async () => {
    const withFifo = mkdtempSync(join(tmpdir(), "kiln-tarw-fifo-"));
    try {
      writeFileSync(join(withFifo, "a.txt"), "a");
      expect(Bun.spawnSync(["mkfifo", join(withFifo, "pipe")]).exitCode).toBe(0);
      expect((await readTarEntries(await packDirectory(withFifo))).map((e) => e.entry.path)).toEqual(["a.txt"]);
    } finally {
      rmSync(withFifo, { recursive: true, force: true });
    }
  });

  test("is deterministic with a fixed mtime", async () => {
    const a = await packDirectory(dir, { mtime: 0 });
    const b = await packDirectory(dir, { mtime: 0 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  test("gzip output round-trips and is readable by system tar", async () => {
    const tgz = await packDirectory(dir, { gzip: true });
    expect(tgz[0]).toBe(0x1f);
    expect(tgz[1]).toBe(0x8b);
    expect((await readTarEntries(tgz)).length).toBe(10);
    const file = join(dir, "..", `kiln-tarw-${process.pid}.tgz`);
    writeFileSync(file, tgz);
    try {
      const r = Bun.spawnSync(["tar", "-tzf", file]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString()).toContain("src/lib/b.ts");
    } finally {
      rmSync(file, { force: true });
    }
  });
});

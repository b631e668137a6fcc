import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { fillNewDir } from "./safe-dir.ts";

let parent: string;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), "kiln-safedir-"));
});
afterEach(() => rmSync(parent, { recursive: true, force: true }));

test("renames the filled directory into place on success", async () => {
  const dest = join(parent, "src");
  const result = await fillNewDir(dest, async (staging) => {
    expect(staging).not.toBe(dest);
    writeFileSync(join(staging, "a.txt"), "hi");
    return 42;
  });
  expect(result).toBe(42);
  expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("hi");
  expect(statSync(dest).mode & 0o777).toBe(0o755);
  expect(readdirSync(parent)).toEqual(["src"]);
});

test("leaves nothing behind on failure", async () => {
  const dest = join(parent, "src");
  await expect(
    fillNewDir(dest, async (staging) => {
      writeFileSync(join(staging, "a.txt"), "hi");
      throw new Error("boom");
    }),
  ).rejects.toThrow("boom");
  expect(existsSync(dest)).toBe(false);
  expect(readdirSync(parent)).toEqual([]);
});

test("creates missing parents", async () => {
  const dest = join(parent, "x/y/src");
  await fillNewDir(dest, async () => {});
  expect(existsSync(dest)).toBe(true);
});

test("refuses an existing destination", async () => {
  const dest = join(parent, "src");
  mkdirSync(dest);
  await expect(fillNewDir(dest, async () => {})).rejects.toBeInstanceOf(KilnError);
});

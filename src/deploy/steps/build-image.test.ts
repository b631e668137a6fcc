import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SETTINGS } from "../../core/settings.ts";
import type { PipelineContext, PipelineDeps } from "../context.ts";
import { buildImage } from "./build-image.ts";

/** A context whose build stops at the rootDir check (no builder is ever reached when it fails). */
function ctxWith(srcDir: string, rootDir: string): PipelineContext {
  return { srcDir, settings: { ...DEFAULT_SETTINGS, rootDir }, log: () => {} } as unknown as PipelineContext;
}

test("settings.rootDir that is a symlink out of the source is refused, never followed", async () => {
  const src = mkdtempSync(join(tmpdir(), "kiln-rootdir-"));
  mkdirSync(join(src, "apps"));
  symlinkSync("/etc", join(src, "apps", "web"));
  const err = await buildImage.run(ctxWith(src, "apps/web"), {} as PipelineDeps).catch((e: unknown) => e);
  expect(String((err as Error).message)).toBe("apps/web is a symbolic link out of the source tree; Kiln does not follow it");
});

test("settings.rootDir that is missing says so", async () => {
  const src = mkdtempSync(join(tmpdir(), "kiln-rootdir-"));
  const err = await buildImage.run(ctxWith(src, "apps/api"), {} as PipelineDeps).catch((e: unknown) => e);
  expect(String((err as Error).message)).toBe("settings.rootDir: apps/api is not a folder of the source");
});

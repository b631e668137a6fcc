/**
 * Fill a directory atomically: work happens in a fresh temp directory next to `destDir`, which
 * is renamed into place only when `fill` succeeds. On failure the temp directory is removed,
 * so callers see either a complete destDir or none at all.
 */
import { chmod, lstat, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KilnError } from "../../core/errors.ts";

export async function fillNewDir<T>(destDir: string, fill: (stagingDir: string) => Promise<T>): Promise<T> {
  if (await exists(destDir)) {
    throw new KilnError("internal", `source directory ${destDir} already exists`, "fetch into a fresh path");
  }
  const parent = dirname(destDir);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(destDir)}.partial-`));
  try {
    const result = await fill(staging);
    await chmod(staging, 0o755); // mkdtemp made it 0700
    if (await exists(destDir)) {
      throw new KilnError("internal", `source directory ${destDir} appeared while it was being filled`);
    }
    await rename(staging, destDir);
    return result;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

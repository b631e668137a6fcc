/**
 * argv for util-linux `mount`/`umount`, as data. Every path is absolute and comes after `--`
 * (util-linux parses options with getopt, so `--` ends them), so no path can read as an option.
 * Also: how to read a failed command's output.
 */
import { KilnError } from "../../core/errors.ts";

function absolute(path: string): string {
  if (!path.startsWith("/") || path.includes("\0") || path.includes("\n")) {
    throw new KilnError("internal", `mount path must be absolute and plain: ${JSON.stringify(path)}`);
  }
  return path;
}

/** Bind `source` onto `target` (read-write unless the source mount is read-only). */
export function bindArgv(source: string, target: string): string[] {
  return ["mount", "--bind", "--", absolute(source), absolute(target)];
}

/**
 * Bind read-only. util-linux does this as a bind followed by a read-only remount, and the
 * remount does not propagate: never use it directly on a shared mount (see slot-mounts.ts).
 */
export function readOnlyBindArgv(source: string, target: string): string[] {
  return ["mount", "--bind", "-o", "ro", "--", absolute(source), absolute(target)];
}

/** Make `path` (already a mount point) and its submounts shared. */
export function makeRsharedArgv(path: string): string[] {
  return ["mount", "--make-rshared", "--", absolute(path)];
}

/** Make `path` (already a mount point) private: nothing propagates in or out. */
export function makePrivateArgv(path: string): string[] {
  return ["mount", "--make-private", "--", absolute(path)];
}

export function umountArgv(path: string): string[] {
  return ["umount", "--", absolute(path)];
}

/** Detach now, clean up when no longer busy. */
export function lazyUmountArgv(path: string): string[] {
  return ["umount", "--lazy", "--", absolute(path)];
}

export type MountFailure = "not_permitted" | "busy" | "not_mounted" | "other";

/** What a failed mount/umount's output says (util-linux 2.38 wording). */
export function classifyMountFailure(output: readonly string[]): MountFailure {
  const text = output.join("\n");
  if (/must be superuser|permission denied|operation not permitted/i.test(text)) return "not_permitted";
  if (/target is busy|device or resource busy/i.test(text)) return "busy";
  if (/not mounted|no mount point specified/i.test(text)) return "not_mounted";
  return "other";
}

/** The first line that says something (util-linux adds a "dmesg(1) may have more…" line). */
export function mountFailureMessage(output: readonly string[]): string {
  const lines = output.map((l) => l.trim()).filter((l) => l && !l.startsWith("dmesg(1)"));
  return lines[0] ?? "no output";
}

/**
 * The path rules a source tarball must follow, as pure functions. Entry paths are relative,
 * free of '..', and short; symlinks must resolve inside the tree (checked by walking the
 * target component by component, following the symlinks the archive itself created).
 */
import { StepError } from "../../core/errors.ts";

export interface TarballCaps {
  /** Sum of all entry sizes, in bytes. */
  maxTotalBytes: number;
  /** Number of entries (files, directories, links). */
  maxFiles: number;
  /** Bytes in an entry path or a link target. */
  maxPathLength: number;
}

export const DEFAULT_TARBALL_CAPS: TarballCaps = {
  maxTotalBytes: 512 * 1024 * 1024,
  maxFiles: 20_000,
  maxPathLength: 1024,
};

const MAX_COMPONENT_BYTES = 255;
const MAX_LINK_HOPS = 40;
const encoder = new TextEncoder();

/** `"name"` for messages: JSON-quoted, cut short. */
export function quote(path: string): string {
  return JSON.stringify(path.length > 160 ? `${path.slice(0, 160)}…` : path);
}

export function entryError(rawPath: string, rule: string, hint?: string): StepError {
  return new StepError(`tarball entry ${quote(rawPath)} ${rule}`, hint);
}

/**
 * The safe relative form of an archive path: leading "./" and empty or "." components dropped,
 * no trailing '/'. Returns "" for the archive root itself. Throws a StepError naming the rule.
 */
export function normalizeEntryPath(raw: string, maxPathLength: number): string {
  if (raw.includes("\0")) throw entryError(raw, "contains a NUL byte");
  if (raw.startsWith("/")) throw entryError(raw, "has an absolute path", "paths in the tarball must be relative");
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw entryError(raw, "escapes the source directory", "paths must not contain '..'");
  const path = parts.join("/");
  if (encoder.encode(path).length > maxPathLength) throw entryError(raw, `has a path longer than ${maxPathLength} bytes`);
  if (parts.some((p) => encoder.encode(p).length > MAX_COMPONENT_BYTES)) {
    throw entryError(raw, `has a path component longer than ${MAX_COMPONENT_BYTES} bytes`);
  }
  return path;
}

/** Every proper ancestor of a normalized path, outermost first: "a/b/c" → ["a", "a/b"]. */
export function ancestors(path: string): string[] {
  const parts = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

/**
 * Whether the symlink at `linkPath` (normalized, relative to the root) pointing at `target`
 * stays inside the root. `links` maps every symlink in the tree to its target; symlinks met on
 * the way are followed, so `a -> ../..` plus `b -> a/..` is caught even though each looks
 * harmless on its own. Absolute targets never stay inside.
 */
export function symlinkStaysInside(linkPath: string, target: string, links: ReadonlyMap<string, string>): boolean {
  if (target === "" || target.startsWith("/") || target.includes("\0")) return false;
  const resolved = linkPath.split("/").slice(0, -1);
  const pending = target.split("/");
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (resolved.length === 0) return false;
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const next = links.get(resolved.join("/"));
    if (next === undefined) continue;
    if (++hops > MAX_LINK_HOPS || next === "" || next.startsWith("/")) return false;
    resolved.pop(); // the link's own name is replaced by its target, relative to its directory
    pending.unshift(...next.split("/"));
  }
  return true;
}

/**
 * Reading an app's files on the host without ever leaving its source tree. Every host-side read
 * of an app's files (detection, builders, the source step) goes through here.
 *
 * The rule: a path is walked from the root one component at a time with lstat. A symbolic link
 * met on the way is followed only while it stays beneath the root (a relative target, resolved
 * component by component, that never climbs above the root); an absolute target, a climb above
 * the root (a link or a `..` in the path) or a loop of links fails with a StepError naming the
 * file: "package.json is a symbolic link out of the source tree; Kiln does not follow it".
 * Nothing outside the tree is ever opened or stat'ed, so no byte of it can reach a log.
 * Files are opened with O_NOFOLLOW | O_NONBLOCK and checked with fstat to be the regular file
 * lstat saw (a FIFO or device is never read); reads are size-capped. Errors never quote contents.
 *
 *   const text = await readBeneath(srcDir, "package.json");   // null: no regular file there
 *   if (await isFileBeneath(srcDir, "Dockerfile")) …
 *   const entries = await readdirBeneath(srcDir);              // top level, links not followed
 */
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { StepError } from "../../core/errors.ts";

/** What Kiln reads of a manifest (package.json, Dockerfile, railpack.json, .dockerignore…) at most. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
const MAX_LINK_HOPS = 40;
const LINK_HINT = "commit the file itself, or a relative symbolic link to a file inside the repository";

export type EntryKind = "file" | "directory" | "symlink" | "other";

export interface BeneathStat {
  kind: Exclude<EntryKind, "symlink">;
  size: number;
}

/** Where a path beneath the root leads: an entry (links inside followed), nothing, or out of the tree. */
type Walk =
  | { to: "entry"; abs: string; stat: Stats }
  | { to: "absent" }
  | { to: "outside"; via: string }
  | { to: "loop"; via: string };

/** Walks `rel` beneath `root` with lstat, following only links that stay beneath it. Never throws for a missing path. */
async function walk(root: string, rel: string): Promise<Walk> {
  const resolved: string[] = []; // components under root, each a real directory (the last may be anything)
  const pending = rel.split("/");
  let hops = 0;
  let lastLink: string | null = null;
  let stat: Stats | null = null;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stat !== null && !stat.isDirectory()) return { to: "absent" };
      if (resolved.length === 0) return { to: "outside", via: lastLink ?? rel };
      resolved.pop();
      stat = null;
      continue;
    }
    if (stat !== null && !stat.isDirectory()) return { to: "absent" };
    resolved.push(part);
    const here = resolved.join("/");
    stat = await lstatOrNull(join(root, here));
    if (stat === null) return { to: "absent" };
    if (!stat.isSymbolicLink()) continue;
    if (++hops > MAX_LINK_HOPS) return { to: "loop", via: here };
    const target = await readlink(join(root, here));
    if (target === "" || target.startsWith("/")) return { to: "outside", via: here };
    resolved.pop(); // the link's name is replaced by its target, relative to the link's directory
    pending.unshift(...target.split("/"));
    lastLink = here;
    stat = null;
  }
  if (stat === null) stat = await lstatOrNull(resolved.length ? join(root, ...resolved) : root);
  return stat === null ? { to: "absent" } : { to: "entry", abs: resolved.length ? join(root, ...resolved) : root, stat };
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}

/** The entry at `rel`, or null when absent; a way out of the tree throws. */
async function entry(root: string, rel: string): Promise<{ abs: string; stat: Stats } | null> {
  const w = await walk(root, rel);
  if (w.to === "absent") return null;
  if (w.to === "entry") return w;
  throw linkError(rel, w);
}

function linkError(rel: string, w: { to: "outside" | "loop"; via: string }): StepError {
  if (w.to === "loop") return new StepError(`${rel} is a loop of symbolic links`, LINK_HINT);
  if (w.via === rel) {
    return rel.split("/").includes("..")
      ? new StepError(`${rel} leads out of the source tree; Kiln does not follow it`, "use a path inside the source tree")
      : new StepError(`${rel} is a symbolic link out of the source tree; Kiln does not follow it`, LINK_HINT);
  }
  return new StepError(`${rel} goes through ${w.via}, a symbolic link out of the source tree; Kiln does not follow it`, LINK_HINT);
}

function kindOf(st: Stats): BeneathStat["kind"] {
  return st.isFile() ? "file" : st.isDirectory() ? "directory" : "other";
}

/** What is at `rel` (links inside the tree followed), or null when nothing is. */
export async function statBeneath(root: string, rel: string): Promise<BeneathStat | null> {
  const e = await entry(root, rel);
  return e && { kind: kindOf(e.stat), size: e.stat.size };
}

export async function existsBeneath(root: string, rel: string): Promise<boolean> {
  return (await entry(root, rel)) !== null;
}

/** Whether `rel` is a regular file beneath the root. */
export async function isFileBeneath(root: string, rel: string): Promise<boolean> {
  return (await statBeneath(root, rel))?.kind === "file";
}

/**
 * The text of the regular file at `rel`, or null when there is none (absent, a directory, a FIFO,
 * a device). A file over `maxBytes` fails naming it; with `{ head: true }` its first `maxBytes` are read.
 */
export async function readBeneath(root: string, rel: string, opts: { maxBytes?: number; head?: boolean } = {}): Promise<string | null> {
  const max = opts.maxBytes ?? MANIFEST_MAX_BYTES;
  const e = await entry(root, rel);
  if (e === null || !e.stat.isFile()) return null;
  if (e.stat.size > max && !opts.head) {
    throw new StepError(`${rel} is larger than ${formatLimit(max)}`, `Kiln reads at most ${formatLimit(max)} of it; make it smaller`);
  }
  const handle = await open(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.ino !== e.stat.ino || st.dev !== e.stat.dev) {
      throw new StepError(`${rel} changed while Kiln was reading it`, "deploy again");
    }
    const buf = new Uint8Array(Math.min(max, st.size) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > max && !opts.head) throw new StepError(`${rel} is larger than ${formatLimit(max)}`, `Kiln reads at most ${formatLimit(max)} of it; make it smaller`);
    return new TextDecoder().decode(buf.subarray(0, Math.min(got, max)));
  } finally {
    await handle.close();
  }
}

/**
 * The entries of the directory at `rel` (default: the root), byte-wise sorted, each with its own
 * kind (a symlink is reported as "symlink", not followed). A directory that is not there: [].
 */
export async function readdirBeneath(root: string, rel = ""): Promise<{ name: string; kind: EntryKind }[]> {
  const e = await entry(root, rel);
  if (e === null || !e.stat.isDirectory()) return [];
  const dirents = await readdir(e.abs, { withFileTypes: true });
  return dirents
    .map((d) => ({
      name: d.name,
      kind: (d.isSymbolicLink() ? "symlink" : d.isFile() ? "file" : d.isDirectory() ? "directory" : "other") as EntryKind,
    }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/**
 * The first symbolic link anywhere in the tree that leads out of it (or loops), as a StepError
 * naming it; null when every link stays inside. For tools that read the tree themselves on the host.
 */
export async function findLinkOut(root: string): Promise<StepError | null> {
  const dirs = [""];
  while (dirs.length > 0) {
    const dir = dirs.shift()!;
    for (const { name, kind } of await readdirBeneath(root, dir)) {
      const rel = dir ? `${dir}/${name}` : name;
      if (kind === "directory") dirs.push(rel);
      if (kind !== "symlink") continue;
      const w = await walk(root, rel);
      if (w.to === "outside" || w.to === "loop") return linkError(rel, w);
    }
  }
  return null;
}

function formatLimit(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} bytes`;
}

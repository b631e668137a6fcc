/**
 * /proc/<pid>/mountinfo, parsed. Pure: the caller reads the file, these functions read the text.
 * Line format (proc(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent dev root mountpoint options [optional fields…] - fstype source super-options
 * Paths escape space, tab, newline and backslash as octal (\040 \011 \012 \134).
 */

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** major:minor */
  device: string;
  /** The directory of the filesystem that is mounted here (for a bind: the bound directory). */
  root: string;
  mountPoint: string;
  options: string[];
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  optional: string[];
  /** Peer group when the mount is shared, else null. */
  shared: number | null;
  /** Peer group it receives propagation from when it is a slave, else null. */
  master: number | null;
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Undo the kernel's octal escapes (\040 → space, \134 → backslash…). */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Every well-formed line of a mountinfo text, in file order; malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const entry = parseMountInfoLine(line);
    if (entry) out.push(entry);
  }
  return out;
}

export function parseMountInfoLine(line: string): MountEntry | null {
  const fields = line.trim().split(" ");
  const sep = fields.indexOf("-", 6);
  if (sep < 0 || fields.length < sep + 3) return null;
  const [id, parent, device, root, mountPoint, options] = fields;
  const mountId = Number(id);
  const parentId = Number(parent);
  if (!Number.isInteger(mountId) || !Number.isInteger(parentId) || !device || !root || !mountPoint || !options) return null;
  const optional = fields.slice(6, sep);
  const tagged = (tag: string): number | null => {
    const field = optional.find((f) => f.startsWith(`${tag}:`));
    const n = field === undefined ? NaN : Number(field.slice(tag.length + 1));
    return Number.isInteger(n) ? n : null;
  };
  return {
    mountId,
    parentId,
    device,
    root: unescapeMountPath(root),
    mountPoint: unescapeMountPath(mountPoint),
    options: options.split(","),
    optional,
    shared: tagged("shared"),
    master: tagged("master"),
    fsType: fields[sep + 1]!,
    source: unescapeMountPath(fields[sep + 2]!),
    superOptions: (fields[sep + 3] ?? "").split(",").filter(Boolean),
  };
}

/** Mounts whose mount point is exactly `path` (stacked mounts: several), in file order. */
export function mountsAt(mounts: readonly MountEntry[], path: string): MountEntry[] {
  return mounts.filter((m) => m.mountPoint === path);
}

/**
 * The visible (topmost) mount at `path`, or null. Stacked mounts at one point are parents of
 * each other; the top is the one that no other mount at that point sits on.
 */
export function topMountAt(mounts: readonly MountEntry[], path: string): MountEntry | null {
  const here = mountsAt(mounts, path);
  const covered = new Set(here.map((m) => m.parentId));
  return here.find((m) => !covered.has(m.mountId)) ?? here.at(-1) ?? null;
}

/** Is `path` equal to `dir` or inside it? Both absolute and normalized (no trailing slash). */
export function isAtOrUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** Mounts at or below `dir`, deepest mount points first (the order to unmount them in). */
export function mountsUnder(mounts: readonly MountEntry[], dir: string): MountEntry[] {
  const depth = (p: string) => p.split("/").length;
  return mounts
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => isAtOrUnder(m.mountPoint, dir))
    .sort((a, b) => depth(b.m.mountPoint) - depth(a.m.mountPoint) || b.i - a.i)
    .map(({ m }) => m);
}

/**
 * The top of a source tree, read once for detection through fs/beneath.ts: never through a
 * symbolic link out of the tree, at most 1 MiB a file. Every name a provider looks at (its
 * `looksAt`) that is present is checked first, so a link out of the tree under one of those
 * names fails the build naming it.
 */
import { isFileBeneath, readBeneath, readdirBeneath, statBeneath } from "../fs/beneath.ts";

export interface Tree {
  dir: string;
  /** Names at the root of the tree. */
  names: Set<string>;
  has(name: string): boolean;
  /** A root file's text (null when absent); read once. */
  text(name: string): Promise<string | null>;
  /** The first `maxBytes` of a file anywhere beneath the root (null when absent). */
  head(path: string, maxBytes: number): Promise<string | null>;
  /** Whether a regular file is at `path` (relative, may have slashes). */
  isFile(path: string): Promise<boolean>;
}

export async function readTree(dir: string, looksAt: Iterable<string>): Promise<Tree> {
  const names = new Set((await readdirBeneath(dir)).map((e) => e.name));
  for (const name of looksAt) if (names.has(name)) await statBeneath(dir, name);
  const cache = new Map<string, Promise<string | null>>();
  return {
    dir,
    names,
    has: (name) => names.has(name),
    text(name) {
      let p = cache.get(name);
      if (!p) {
        p = names.has(name) ? readBeneath(dir, name) : Promise.resolve(null);
        cache.set(name, p);
      }
      return p;
    },
    head: (path, maxBytes) => readBeneath(dir, path, { maxBytes, head: true }),
    isFile: (path) => isFileBeneath(dir, path),
  };
}

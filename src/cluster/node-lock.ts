/**
 * A pools node: the Kilns that share one pools directory (KILN_POOLS_DIR, one host). Its id is made
 * once into `<poolsDir>/node-id` by the first Kiln there, so every Kiln sharing the directory reads
 * the same one. Members record the node whose slots they bind (pool_members.node); only Kilns of that
 * node hand them out, release them or sync them, and one Kiln of each node runs its pools' upkeep,
 * elected on the advisory lock nodeLock(node).
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../core/errors.ts";

/** Advisory lock class of a pools node's election ("kilp"); the second key is the node's hash. */
const NODE_LOCK_CLASS = 0x6b696c70;

export async function resolvePoolsNode(poolsDir: string): Promise<string> {
  const path = join(poolsDir, "node-id");
  const read = async () => (await readFile(path, "utf8").catch(() => "")).trim();
  const existing = await read();
  if (existing) return checked(existing, path);
  await mkdir(poolsDir, { recursive: true, mode: 0o700 });
  // Written aside, then linked into place (link fails when the name exists): two Kilns starting at
  // once on a fresh directory agree on the first, and neither ever reads it half-written.
  const aside = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(aside, `${randomBytes(6).toString("hex")}\n`, { mode: 0o600 });
  try {
    await link(aside, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  } finally {
    await rm(aside, { force: true });
  }
  return checked(await read(), path);
}

/** A node id goes into labels, SQL parameters and log lines: only what Kiln itself writes is taken. */
function checked(id: string, path: string): string {
  if (!/^[0-9a-f]{8,64}$/.test(id)) {
    throw new KilnError("bad_request", `the pools node id in ${path} is not one Kiln wrote (expected hex digits)`, `delete ${path} to have a new one made (members of the old id are then another node's)`);
  }
  return id;
}

/** The two-int advisory lock a node's Kilns elect their pools leader on. */
export function nodeLock(node: string): readonly [number, number] {
  return [NODE_LOCK_CLASS, hash31(node)];
}

/** FNV-1a, kept to 31 bits: a non-negative int4 (pg_locks shows it as an oid). */
function hash31(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

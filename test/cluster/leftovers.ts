/**
 * What a cluster test's Kilns leave in the shared Docker engine (apps, pool members and their
 * images outlive Kiln): everything labelled with that cluster's id, which only those Kilns made.
 */
import { SQL, type Subprocess } from "bun";
import { rmSync } from "node:fs";
import { join } from "node:path";

export async function clusterIdOf(url: string): Promise<string | null> {
  const db = new SQL(url, { max: 1 });
  try {
    const [row] = await db.unsafe<{ value: string }[]>("SELECT value FROM kiln_cluster WHERE key = 'id'");
    return row?.value ?? null;
  } catch {
    return null;
  } finally {
    await db.close();
  }
}

/** Removes the cluster's containers, then its images. */
export function removeClusterLeftovers(clusterId: string | null): void {
  if (!clusterId || !/^[0-9a-f]{16}$/.test(clusterId)) return;
  const list = (args: string[]) => Bun.spawnSync(["docker", ...args]).stdout.toString().split("\n").map((s) => s.trim()).filter(Boolean);
  const containers = list(["ps", "-aq", "--filter", `label=kiln.instance=${clusterId}`]);
  if (containers.length) Bun.spawnSync(["docker", "rm", "-f", ...containers]);
  const images = [...new Set(list(["images", "-q", "--filter", `label=kiln.instance=${clusterId}`]))];
  if (images.length) Bun.spawnSync(["docker", "rmi", "-f", ...images]);
}

/** Stops the Kiln processes (SIGTERM, then SIGKILL after 20 s) and deletes their data dirs and Caddies. */
export async function stopKilns(procs: readonly Subprocess[], kilns: readonly { cleanup(): void }[]): Promise<void> {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(20_000)])));
  for (const p of procs) p.kill("SIGKILL");
  for (const k of kilns) k.cleanup();
}

/** Unmounts what is left under a shared pools directory and deletes it. */
export function removePoolsDir(dir: string): void {
  for (const sub of ["slots", "slots-staging"]) Bun.spawnSync(["umount", "-R", "-l", join(dir, sub)]);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What a cluster test's Kilns leave in the shared Docker engine (apps, pool members and their
 * images outlive Kiln): everything labelled with that cluster's id, which only those Kilns made.
 */
import { SQL } from "bun";

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

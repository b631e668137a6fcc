/**
 * After a restart (even a kill -9): compare pool members in the store with the labelled containers
 * and the slot mounts, adopt what still runs, and remove the rest. Claims that still run keep
 * answering; members that were warming are replaced.
 */
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import { INSTANCE, MANAGED } from "../core/labels.ts";
import type { Members, Slots } from "../pools/members.ts";
import { tenantDirs } from "../pools/tenant-dirs.ts";
import type { WorkloadRegistry } from "../pools/workload-registry.ts";

export interface AdoptDeps {
  store: Store;
  runtime: ContainerRuntime;
  slots: Slots & { attached(): Promise<string[]> };
  members: Members;
  registry: WorkloadRegistry;
  instanceId: string;
  dataDir: string;
  log: (line: string) => void;
}

export async function adoptPoolMembers(d: AdoptDeps): Promise<{ adopted: number; removed: number }> {
  const containers = await d.runtime.listContainers({ [MANAGED]: "true", [INSTANCE]: d.instanceId, "kiln.kind": "pool-member" });
  const byId = new Map(containers.map((c) => [c.id, c]));
  const members = await d.store.pools.listMembers();
  const known = new Set<string>();
  let adopted = 0;
  let removed = 0;
  const attached = new Set(await d.slots.attached());
  for (const m of members) {
    const c = m.containerId ? byId.get(m.containerId) : undefined;
    if (c?.paused) await d.runtime.unpauseContainer(c.id); // Kiln died during a paused upload
    if (c?.running && m.status === "releasing" && m.tenantId) {
      // The release did not finish: nothing is lost, the tenant keeps its container and may retry.
      await d.store.pools.updateMember(m.id, { status: "claimed" });
      const t = await d.store.pools.getTenant(m.tenantId, m.workloadId);
      if (t) await d.store.pools.putTenant({ ...t, status: "release_failed", updatedAt: Date.now() });
      m.status = "claimed";
    }
    const keep = c?.running && (m.status === "ready" || m.status === "claimed");
    if (!keep) {
      await d.members.destroy(m.id).catch(() => {});
      if (m.tenantId && (m.status === "claimed" || m.status === "releasing")) {
        const t = await d.store.pools.getTenant(m.tenantId, m.workloadId);
        if (t) await d.store.pools.putTenant({ ...t, memberId: null, status: "released", releasedAt: Date.now(), updatedAt: Date.now() });
        d.log(`tenant ${m.tenantId}'s ${m.workloadId} container was gone after the restart; its state is kept on disk`);
      }
      removed++;
      continue;
    }
    known.add(m.containerId!);
    if (m.status === "claimed" && m.tenantId && !attached.has(m.id)) {
      const w = d.registry.forMember(m);
      const dirs = tenantDirs(d.dataDir, m.workloadId, m.tenantId);
      await d.slots.attach(m.id, { state: w?.state ? dirs.state : undefined, secrets: w?.secrets ? dirs.secrets : undefined });
    }
    adopted++;
  }
  for (const c of containers) {
    if (!known.has(c.id)) {
      await d.runtime.removeContainer(c.id);
      removed++;
    }
  }
  // Slot mounts whose member no longer exists.
  const live = new Set((await d.store.pools.listMembers()).map((m) => m.id));
  for (const memberId of attached) if (!live.has(memberId)) await d.slots.detach(memberId).catch(() => {});
  return { adopted, removed };
}

/**
 * After a restart (even a kill -9): compare pool members in the store with the labelled containers
 * and the slot mounts, adopt what still runs, and remove the rest. Claims that still run keep
 * answering; members that were warming, or taken by a claim that had not completed, are replaced; a
 * release cut short leaves the tenant its container. A status write the lifecycles refuse (the
 * store is not what a crash could leave) is logged and counted, and adoption goes on.
 */
import { IllegalMove } from "../core/lifecycle.ts";
import type { PoolMember } from "../core/pool.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import { INSTANCE, MANAGED } from "../core/labels.ts";
import type { Members, Slots } from "../pools/members.ts";
import { tenantDirs } from "../adapters/fs/tenant-dirs.ts";
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

const WHERE = "adoptPoolMembers";

export async function adoptPoolMembers(d: AdoptDeps): Promise<{ adopted: number; removed: number; illegalMoves: number }> {
  const containers = await d.runtime.listContainers({ [MANAGED]: "true", [INSTANCE]: d.instanceId, "kiln.kind": "pool-member" });
  const byId = new Map(containers.map((c) => [c.id, c]));
  const members = await d.store.pools.listMembers();
  const known = new Set<string>();
  let adopted = 0;
  let removed = 0;
  let illegalMoves = 0;
  const attached = new Set(await d.slots.attached());
  for (const m of members) {
    const c = m.containerId ? byId.get(m.containerId) : undefined;
    if (c?.paused) await d.runtime.unpauseContainer(c.id); // Kiln died during a paused upload
    let keep = false;
    try {
      keep = await adoptOne(d, m, !!c?.running, attached);
    } catch (err) {
      if (!(err instanceof IllegalMove)) throw err;
      illegalMoves++;
      d.log(`pools: adoption: ${err.message}`);
      keep = !!c?.running && (await d.store.pools.getMember(m.id)) !== null; // the refused row is left as it was
    }
    if (keep) {
      known.add(m.containerId!);
      adopted++;
    } else removed++;
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
  return { adopted, removed, illegalMoves };
}

/** Adopts (true) or removes (false) one member, putting its and its tenant's statuses right. */
async function adoptOne(d: AdoptDeps, m: PoolMember, running: boolean, attached: Set<string>): Promise<boolean> {
  const t = m.tenantId ? await d.store.pools.getTenant(m.tenantId, m.workloadId) : null;
  if (m.tenantId && !(t && t.memberId === m.id && t.status !== "released")) {
    // The tenant's row names its member once the claim has completed: this claim never did (Kiln
    // died in it), so no one was told about this member and it never served. It goes.
    await d.members.destroy(m.id).catch(() => {});
    d.log(`tenant ${m.tenantId}'s claim on ${m.workloadId} was cut short by the restart; its unfinished container is removed`);
    return false;
  }
  if (running && m.status === "releasing" && t) {
    // The release did not finish: nothing is lost, the tenant keeps its container and may retry.
    await d.store.pools.updateMember(m.id, { status: "claimed" }, WHERE);
    // A tenant still `claimed` never saw the release start: it just keeps its container.
    if (t.status === "releasing") await d.store.pools.putTenant({ ...t, status: "release_failed", updatedAt: Date.now() }, WHERE);
    m.status = "claimed";
  }
  if (!running || (m.status !== "ready" && m.status !== "claimed")) {
    await d.members.destroy(m.id).catch(() => {});
    if (t) {
      await d.store.pools.putTenant({ ...t, memberId: null, status: "released", releasedAt: Date.now(), updatedAt: Date.now() }, WHERE);
      d.log(`tenant ${m.tenantId}'s ${m.workloadId} container was gone after the restart; its state is kept on disk`);
    }
    return false;
  }
  if (m.status === "claimed" && m.tenantId && !attached.has(m.id)) {
    const w = d.registry.forMember(m);
    const dirs = tenantDirs(d.dataDir, m.workloadId, m.tenantId);
    await d.slots.attach(m.id, { state: w?.state ? dirs.state : undefined, secrets: w?.secrets ? dirs.secrets : undefined });
  }
  return true;
}

/**
 * After a restart (even a kill -9): compare pool members in the store with the labelled containers
 * and the slot mounts, adopt what still runs, and remove the rest. Claims that still run keep
 * answering; members that were warming, or taken by a claim that had not completed, are replaced; a
 * release cut short leaves the tenant its container. A status write the lifecycles refuse (the
 * store is not what a crash could leave) is logged and counted, and adoption goes on.
 *
 * After the engine itself restarted (Kiln still running), convergePoolMembers does the same
 * comparison without a restart's doubts: ready members whose containers no longer run are removed,
 * claimed ones are replaced for their tenant (Tenants.replaceDead), claims left without a member get
 * one, containers without a member go; members still warming are left to the create waiting for them.
 */
import { IllegalMove } from "../core/lifecycle.ts";
import type { PoolMember } from "../core/pool.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import { INSTANCE, MANAGED, NODE } from "../core/labels.ts";
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
  /** This Kiln's pools node (src/cluster/node-lock.ts): only its members and containers are adopted here. */
  node?: string;
  /** Where the tenants' directories are (KILN_POOLS_DIR). */
  dataDir: string;
  /** Several Kilns share the store: other nodes' members are theirs. Alone, a member of another node is a leftover. */
  shared?: boolean;
  log: (line: string) => void;
}

const WHERE = "adoptPoolMembers";

/**
 * This instance's member containers on this pools node, as the engine has them now. Several nodes
 * may share one engine: another node's containers (its label) are its own to keep; one without the
 * label predates nodes and belongs to whoever adopts it. A Kiln alone takes them all (one of another
 * node was made before its pools directory moved: a leftover).
 */
async function memberContainers(d: { runtime: ContainerRuntime; instanceId: string; node?: string; shared?: boolean }) {
  const all = await d.runtime.listContainers({ [MANAGED]: "true", [INSTANCE]: d.instanceId, "kiln.kind": "pool-member" });
  return d.node === undefined || !d.shared ? all : all.filter((c) => c.labels[NODE] === undefined || c.labels[NODE] === d.node);
}

/** Members whose container no longer runs: ready ones (to remove) and held ones (to replace). Pure. */
export function deadMembers(members: PoolMember[], running: Set<string>): { ready: PoolMember[]; held: PoolMember[] } {
  const dead = members.filter((m) => m.containerId !== null && !running.has(m.containerId));
  return {
    ready: dead.filter((m) => m.status === "ready"),
    held: dead.filter((m) => (m.status === "claimed" || m.status === "releasing") && m.tenantId !== null),
  };
}

export interface ConvergeDeps {
  store: Store;
  runtime: ContainerRuntime;
  members: Pick<Members, "destroy">;
  instanceId: string;
  node?: string;
  /** Tenants.replaceDead: null when it did nothing (or could not replace). */
  replaceDead: (dead: PoolMember, cause: string, stillDead: () => Promise<boolean>) => Promise<PoolMember | null>;
  /** Tenants.restoreMissing: a member for a standing claim that has none. */
  restoreMissing: (tenantId: string, workloadId: string, cause: string) => Promise<PoolMember | null>;
  log: (line: string) => void;
}

export async function convergePoolMembers(d: ConvergeDeps): Promise<{ removed: number; replaced: number }> {
  const running = new Set((await memberContainers(d)).filter((c) => c.running).map((c) => c.id));
  const dead = deadMembers(await d.store.pools.listMembers(undefined, d.node), running);
  let removed = 0;
  let replaced = 0;
  // Ready ones first: a replacement below takes from the pool, which must hold only live members.
  for (const m of dead.ready) {
    if (!(await d.store.pools.drainIfReady(m.id))) continue; // claimed meanwhile: handled as held below, or by its event
    await d.members.destroy(m.id).catch((err) => d.log(`pools: removing dead member ${m.id}: ${String(err)}`));
    removed++;
  }
  for (const m of dead.held) {
    const id = m.containerId!;
    const stillDead = async () => !(await d.runtime.inspectContainer(id))?.running;
    if (await d.replaceDead(m, `container ${id.slice(0, 12)} no longer ran after the engine came back`, stillDead)) replaced++;
  }
  // Claims left without a container: their replacement failed while the engine was away.
  const held = new Set((await d.store.pools.listMembers()).map((m) => m.id));
  for (const t of await d.store.pools.listTenants()) {
    if (t.status !== "claimed" && t.status !== "release_failed") continue;
    if (t.memberId && held.has(t.memberId)) continue;
    if (await d.restoreMissing(t.tenantId, t.workloadId, "its container was lost while the engine was away")) replaced++;
  }
  // Containers whose member is gone (a removal that failed while the engine was away). Containers
  // first, members after: a member's row is written before its container is made, so a container
  // being made meanwhile always has its row in the second list.
  const containers = await memberContainers(d);
  const live = new Set((await d.store.pools.listMembers()).map((m) => m.id));
  for (const c of containers) {
    const memberId = c.labels["kiln.member"];
    if (memberId && live.has(memberId)) continue;
    if (memberId) await d.members.destroy(memberId).catch(() => {}); // its slot mount and leftover row
    await d.runtime.removeContainer(c.id).catch((err) => d.log(`pools: removing orphan container ${c.id.slice(0, 12)}: ${String(err)}`));
    removed++;
  }
  if (removed || replaced) d.log(`pools: after the engine came back: removed ${removed} dead member(s), replaced ${replaced} tenant container(s)`);
  return { removed, replaced };
}

export async function adoptPoolMembers(d: AdoptDeps): Promise<{ adopted: number; removed: number; illegalMoves: number }> {
  const containers = await memberContainers(d);
  const byId = new Map(containers.map((c) => [c.id, c]));
  if (d.node !== undefined) {
    // Rows from before members recorded their node were made here (one Kiln alone then).
    const n = await d.store.pools.adoptMembers(d.node);
    if (n > 0) d.log(`pools: ${n} member(s) recorded before pools nodes are this node's (${d.node})`);
    if (!d.shared) await removeOtherNodes(d, d.node);
  }
  const members = await d.store.pools.listMembers(undefined, d.node);
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
  const live = new Set((await d.store.pools.listMembers()).map((m) => m.id));
  // Claims whose member is gone: Kiln died while replacing their dead container (Tenants.replaceDead).
  for (const t of await d.store.pools.listTenants()) {
    if ((t.status !== "claimed" && t.status !== "release_failed") || (t.memberId && live.has(t.memberId))) continue;
    if (t.memberId) await d.members.destroy(t.memberId).catch(() => {}); // the `destroyed` row it names
    try {
      await d.store.pools.putTenant({ ...t, memberId: null, status: "released", releasedAt: Date.now(), updatedAt: Date.now() }, WHERE);
      d.log(`tenant ${t.tenantId}'s ${t.workloadId} container was being replaced when Kiln stopped; its state is kept on disk`);
    } catch (err) {
      if (!(err instanceof IllegalMove)) throw err;
      illegalMoves++;
      d.log(`pools: adoption: ${err.message}`);
    }
  }
  // Slot mounts whose member no longer exists.
  for (const memberId of attached) if (!live.has(memberId)) await d.slots.detach(memberId).catch(() => {});
  return { adopted, removed, illegalMoves };
}

/**
 * A Kiln alone whose pools directory moved (KILN_POOLS_DIR changed): the members of the old one bind
 * slots this Kiln no longer keeps, so they go (containers and rows); their tenants are released, their
 * state left where it was, and the log says where.
 */
async function removeOtherNodes(d: AdoptDeps, node: string): Promise<void> {
  for (const m of await d.store.pools.listMembers()) {
    if (m.node === node || m.node === "") continue;
    await d.members.destroy(m.id).catch(() => {});
    const t = m.tenantId ? await d.store.pools.getTenant(m.tenantId, m.workloadId) : null;
    if (t && t.memberId === m.id && t.status !== "released") {
      await d.store.pools.putTenant({ ...t, memberId: null, status: "released", releasedAt: Date.now(), updatedAt: Date.now() }, WHERE);
    }
    d.log(`pools: member ${m.id} belonged to pools node ${m.node}, not this Kiln's (${node}: KILN_POOLS_DIR moved); removed${t ? `, tenant ${t.tenantId} released (its state stays in the old pools directory)` : ""}`);
  }
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

/**
 * Idle timeouts: a tenant whose container saw no claim or sync for the workload's idle_timeout is
 * released (its state uploaded per policy); ready members above min_size that sat unused for
 * idle_timeout are removed. Returns how many releases met a status write the lifecycles refused
 * (logged like any failed release; the caller counts them).
 */
import { IllegalMove } from "../core/lifecycle.ts";
import type { Store } from "../core/ports/store.ts";
import type { Members } from "./members.ts";
import type { Tenants } from "./tenants.ts";
import type { WorkloadRegistry } from "./workload-registry.ts";

export async function sweepIdle(now: number, d: { store: Store; registry: WorkloadRegistry; members: Members; tenants: Tenants; log: (line: string) => void }): Promise<number> {
  let illegalMoves = 0;
  const members = await d.store.pools.listMembers(undefined, d.members.node); // this node's: only here can they be released
  for (const m of members) {
    const w = d.registry.forMember(m);
    if (!w || m.status !== "claimed" || !m.tenantId) continue;
    if (now - (m.lastActiveAt ?? m.claimedAt ?? now) < w.pool.idleTimeoutMs) continue;
    await d.tenants.release(m.tenantId, { workload: m.workloadId }).catch((err) => {
      if (err instanceof IllegalMove) illegalMoves++;
      d.log(`idle release of ${m.tenantId}/${m.workloadId} failed: ${String(err)}`);
    });
  }
  for (const w of d.registry.all()) {
    const ready = members.filter((m) => m.workloadId === w.id && m.status === "ready").sort((a, b) => (a.readyAt ?? 0) - (b.readyAt ?? 0));
    const surplus = ready.length - w.pool.minSize;
    for (const m of ready.slice(0, Math.max(0, surplus))) {
      if (now - (m.readyAt ?? now) >= w.pool.idleTimeoutMs) {
        // Only if it is still ready: a tenant may have claimed it since the list was taken.
        if (await d.store.pools.drainIfReady(m.id)) await d.members.destroy(m.id).catch(() => {});
      }
    }
  }
  return illegalMoves;
}

/**
 * Pool members and tenant claims, with their lifecycles. A member serves at most one tenant in
 * its life: after release it is destroyed and the pool refills.
 */
import { defineLifecycle } from "./lifecycle.ts";

export type MemberStatus = "warming" | "ready" | "claimed" | "releasing" | "draining" | "destroyed";

export interface PoolMember {
  id: string;
  workloadId: string;
  /** Hash of the workload spec the member was made from. */
  specHash: string;
  /**
   * The pools node (a host's pools directory) whose slots the member's container binds: only a
   * Kiln on that node may hand it out. "" for a member recorded before nodes were (adoptMembers).
   */
  node: string;
  containerId: string | null;
  status: MemberStatus;
  tenantId: string | null;
  /** 127.0.0.1:<port> when the workload has a port. */
  endpoint: string | null;
  createdAt: number;
  readyAt: number | null;
  claimedAt: number | null;
  /** Last claim or activity (idle timeouts count from here). */
  lastActiveAt: number | null;
}

/** Members are born `warming` (pool) or `claimed` (a cold start); `destroyed` is the row's removal. */
export const memberLifecycle = defineLifecycle<MemberStatus>("pool member", {
  warming: ["ready", "destroyed"],
  ready: ["claimed", "draining", "destroyed"], // draining: spec changed, workload removed, idle surplus
  claimed: ["releasing", "destroyed"],
  releasing: ["claimed", "destroyed"], // claimed again: the upload failed (or Kiln died mid-release)
  draining: ["destroyed"],
  destroyed: [],
});

export type TenantStatus = "claimed" | "releasing" | "release_failed" | "released";

/**
 * A tenant's claim on one workload. A tenant without a row counts as `released` (so a row is born
 * claimed, or released when a download ran before its first claim). Every status may be rewritten
 * as itself: the last sync outcome is recorded on the row whatever the status.
 */
export const tenantLifecycle = defineLifecycle<TenantStatus>("tenant", {
  released: ["released", "claimed"],
  // → released: its container was gone after a restart (adoption)
  claimed: ["claimed", "releasing", "released"],
  releasing: ["releasing", "release_failed", "released"],
  // the member is claimed again and the tenant keeps it: release again, or lose it at a restart
  release_failed: ["release_failed", "releasing", "released"],
});
export type ClaimSource = "existing" | "pool" | "cold";

export interface TenantClaim {
  tenantId: string;
  workloadId: string;
  memberId: string | null;
  status: TenantStatus;
  /** Last sync outcome, for the dashboard and status. */
  lastSync: { direction: "upload" | "download"; ok: boolean; at: number; error: string | null } | null;
  claimedAt: number | null;
  releasedAt: number | null;
  updatedAt: number;
}

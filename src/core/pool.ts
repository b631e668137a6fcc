/**
 * Pool members and tenant claims, with their lifecycles. A member serves at most one tenant in
 * its life: after release it is destroyed and the pool refills.
 */
import { conflict } from "./errors.ts";

export type MemberStatus = "warming" | "ready" | "claimed" | "releasing" | "draining" | "destroyed";

export interface PoolMember {
  id: string;
  workloadId: string;
  /** Hash of the workload spec the member was made from. */
  specHash: string;
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

const memberMoves: Record<MemberStatus, readonly MemberStatus[]> = {
  warming: ["ready", "claimed", "destroyed", "draining"],
  ready: ["claimed", "draining", "destroyed"],
  claimed: ["releasing", "destroyed"],
  releasing: ["destroyed", "claimed"], // claimed again: the upload failed, the tenant keeps it
  draining: ["destroyed"],
  destroyed: [],
};

export function assertMemberMove(from: MemberStatus, to: MemberStatus): void {
  if (!memberMoves[from].includes(to)) throw conflict(`pool member cannot go from ${from} to ${to}`);
}

export type TenantStatus = "claimed" | "releasing" | "release_failed" | "released";
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

/** Pool member and tenant rows ↔ domain objects. Column names live only here and in the migration. */
import type { PoolMember, TenantClaim } from "../../core/pool.ts";
import type { SqlValue } from "./rows.ts";

export interface MemberRow {
  id: string;
  workload_id: string;
  spec_hash: string;
  node: string;
  container_id: string | null;
  status: string;
  tenant_id: string | null;
  endpoint: string | null;
  created_at: number;
  ready_at: number | null;
  claimed_at: number | null;
  last_active_at: number | null;
}

export interface TenantRow {
  tenant_id: string;
  workload_id: string;
  member_id: string | null;
  status: string;
  last_sync: string | null;
  claimed_at: number | null;
  released_at: number | null;
  updated_at: number;
}

const MEMBER_FIELDS: Record<keyof PoolMember, keyof MemberRow> = {
  id: "id",
  workloadId: "workload_id",
  specHash: "spec_hash",
  node: "node",
  containerId: "container_id",
  status: "status",
  tenantId: "tenant_id",
  endpoint: "endpoint",
  createdAt: "created_at",
  readyAt: "ready_at",
  claimedAt: "claimed_at",
  lastActiveAt: "last_active_at",
};

export function rowToMember(r: MemberRow): PoolMember {
  return {
    id: r.id,
    workloadId: r.workload_id,
    specHash: r.spec_hash,
    node: r.node,
    containerId: r.container_id,
    status: r.status as PoolMember["status"],
    tenantId: r.tenant_id,
    endpoint: r.endpoint,
    createdAt: r.created_at,
    readyAt: r.ready_at,
    claimedAt: r.claimed_at,
    lastActiveAt: r.last_active_at,
  };
}

/** [column, value] pairs for the fields present in `m`. */
export function memberColumns(m: Partial<PoolMember>): Array<[string, SqlValue]> {
  const out: Array<[string, SqlValue]> = [];
  for (const [field, column] of Object.entries(MEMBER_FIELDS) as [keyof PoolMember, string][]) {
    const v = m[field];
    if (v !== undefined) out.push([column, v as SqlValue]);
  }
  return out;
}

/**
 * listMembers' optional filters as a WHERE prefix (each term followed by AND) and its parameters.
 * No workload (or "") means all; no node means all, but "" is a node: members recorded before nodes were.
 */
export function memberFilter(workloadId?: string, node?: string): { sql: string; params: string[] } {
  let sql = "";
  const params: string[] = [];
  if (workloadId) {
    sql += "workload_id = ? AND ";
    params.push(workloadId);
  }
  if (node !== undefined) {
    sql += "node = ? AND ";
    params.push(node);
  }
  return { sql, params };
}

export function rowToTenant(r: TenantRow): TenantClaim {
  return {
    tenantId: r.tenant_id,
    workloadId: r.workload_id,
    memberId: r.member_id,
    status: r.status as TenantClaim["status"],
    lastSync: r.last_sync ? (JSON.parse(r.last_sync) as TenantClaim["lastSync"]) : null,
    claimedAt: r.claimed_at,
    releasedAt: r.released_at,
    updatedAt: r.updated_at,
  };
}

export function tenantValues(t: TenantClaim): SqlValue[] {
  return [t.tenantId, t.workloadId, t.memberId, t.status, t.lastSync ? JSON.stringify(t.lastSync) : null, t.claimedAt, t.releasedAt, t.updatedAt];
}

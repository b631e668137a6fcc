/**
 * Pool members and tenant claims in SQLite. `takeReady` is one UPDATE … RETURNING: atomic. Every
 * status write is conditional on the lifecycle (src/core/pool.ts): `takeReady` and `drainIfReady`
 * move only from `ready` by their own WHERE (checked against the tables below at load).
 */
import type { Database } from "bun:sqlite";
import { conflict, notFound } from "../../core/errors.ts";
import { memberLifecycle, tenantLifecycle, type MemberStatus, type PoolMember, type TenantClaim } from "../../core/pool.ts";
import type { PoolRepo } from "../../core/ports/store.ts";
import { memberColumns, memberFilter, rowToMember, rowToTenant, tenantValues, type MemberRow, type TenantRow } from "./pool-rows.ts";
import type { SqlValue } from "./rows.ts";
import { insertSql, setClause, statusGuard, values } from "./sql.ts";

memberLifecycle.assert("ready", "claimed", "SqlitePools.takeReady");
memberLifecycle.assert("ready", "draining", "SqlitePools.drainIfReady");

export class SqlitePools implements PoolRepo {
  constructor(private readonly db: Database) {}

  async insertMember(m: PoolMember): Promise<void> {
    const cols = memberColumns(m);
    this.db.query(insertSql("pool_members", cols)).run(...values(cols));
  }

  async getMember(id: string): Promise<PoolMember | null> {
    const row = this.db.query<MemberRow, [string]>("SELECT * FROM pool_members WHERE id = ?").get(id);
    return row ? rowToMember(row) : null;
  }

  async listMembers(workloadId?: string, node?: string): Promise<PoolMember[]> {
    const filter = memberFilter(workloadId, node);
    return this.db
      .query<MemberRow, string[]>(`SELECT * FROM pool_members WHERE ${filter.sql}status <> 'destroyed' ORDER BY created_at, id`)
      .all(...filter.params)
      .map(rowToMember);
  }

  /** A status only from a status the member lifecycle allows (one conditional UPDATE), else IllegalMove. */
  async updateMember(id: string, patch: Partial<Omit<PoolMember, "id" | "workloadId" | "createdAt">>, where = "pools.updateMember"): Promise<PoolMember> {
    const cols = memberColumns(patch);
    const guard = statusGuard(memberLifecycle, patch.status);
    let row: MemberRow | null;
    try {
      row = this.db
        .query<MemberRow, SqlValue[]>(`UPDATE pool_members SET ${setClause(cols)} WHERE id = ?${guard.sql} RETURNING *`)
        .get(...values(cols), id, ...guard.params);
    } catch (err) {
      if (String(err).includes("UNIQUE")) throw conflict(`tenant ${patch.tenantId} already holds a member of this workload`);
      throw err;
    }
    if (row) return rowToMember(row);
    const current = this.db.query<{ status: MemberStatus }, [string]>("SELECT status FROM pool_members WHERE id = ?").get(id)?.status;
    if (!current || !patch.status) throw notFound(`no pool member ${id}`);
    throw memberLifecycle.illegal(current, patch.status, where, id);
  }

  async deleteMember(id: string): Promise<void> {
    this.db.query("DELETE FROM pool_members WHERE id = ?").run(id);
  }

  async drainIfReady(id: string): Promise<boolean> {
    return this.db.query("UPDATE pool_members SET status = 'draining' WHERE id = ? AND status = 'ready'").run(id).changes === 1;
  }

  async takeReady(workloadId: string, specHash: string, tenantId: string, now: number, node: string): Promise<PoolMember | null> {
    const row = this.db
      .query<MemberRow, [string, number, number, string, string, string]>(
        `UPDATE pool_members SET status = 'claimed', tenant_id = ?, claimed_at = ?, last_active_at = ?
         WHERE id = (SELECT id FROM pool_members WHERE workload_id = ? AND node = ? AND spec_hash = ? AND status = 'ready' ORDER BY ready_at, id LIMIT 1)
           AND status = 'ready'
         RETURNING *`,
      )
      .get(tenantId, now, now, workloadId, node, specHash);
    return row ? rowToMember(row) : null;
  }

  async adoptMembers(node: string): Promise<number> {
    return this.db.query("UPDATE pool_members SET node = ? WHERE node = ''").run(node).changes;
  }

  async memberOfTenant(workloadId: string, tenantId: string): Promise<PoolMember | null> {
    const row = this.db
      .query<MemberRow, [string, string]>("SELECT * FROM pool_members WHERE workload_id = ? AND tenant_id = ? AND status IN ('claimed', 'releasing')")
      .get(workloadId, tenantId);
    return row ? rowToMember(row) : null;
  }

  async endpointOfTenant(workloadId: string, tenantId: string): Promise<string | null> {
    return endpointOfTenant(this.db, workloadId, tenantId);
  }

  /**
   * Upserts the row; its status only from a status the tenant lifecycle allows (a missing row counts
   * as `released`), else IllegalMove naming the current one. One statement either way.
   */
  async putTenant(t: TenantClaim, where = "pools.putTenant"): Promise<void> {
    const guard = statusGuard(tenantLifecycle, t.status, "tenants.status");
    const set = `member_id = ?, status = ?, last_sync = ?, claimed_at = ?, released_at = ?, updated_at = ?`;
    const [tenantId, workloadId, ...rest] = tenantValues(t);
    const written = tenantLifecycle.can("released", t.status)
      ? this.db
          .query<{ status: string }, SqlValue[]>(
            `INSERT INTO tenants (tenant_id, workload_id, member_id, status, last_sync, claimed_at, released_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, workload_id) DO UPDATE SET ${set} WHERE 1${guard.sql} RETURNING status`,
          )
          .get(tenantId!, workloadId!, ...rest, ...rest, ...guard.params)
      : this.db
          .query<{ status: string }, SqlValue[]>(`UPDATE tenants SET ${set} WHERE tenant_id = ? AND workload_id = ?${guard.sql} RETURNING status`)
          .get(...rest, tenantId!, workloadId!, ...guard.params);
    if (written) return;
    const current = (await this.getTenant(t.tenantId, t.workloadId))?.status ?? "released";
    throw tenantLifecycle.illegal(current, t.status, where, `${t.tenantId}/${t.workloadId}`);
  }

  async getTenant(tenantId: string, workloadId: string): Promise<TenantClaim | null> {
    const row = this.db.query<TenantRow, [string, string]>("SELECT * FROM tenants WHERE tenant_id = ? AND workload_id = ?").get(tenantId, workloadId);
    return row ? rowToTenant(row) : null;
  }

  async listTenants(tenantId?: string): Promise<TenantClaim[]> {
    const rows = tenantId
      ? this.db.query<TenantRow, [string]>("SELECT * FROM tenants WHERE tenant_id = ? ORDER BY workload_id").all(tenantId)
      : this.db.query<TenantRow, []>("SELECT * FROM tenants ORDER BY tenant_id, workload_id").all();
    return rows.map(rowToTenant);
  }
}

/** Shared with the tenant resolver's read-only connection (sqlite-endpoints.ts). */
export function endpointOfTenant(db: Database, workloadId: string, tenantId: string): string | null {
  const row = db
    .query<{ endpoint: string | null }, [string, string]>(
      `SELECT m.endpoint FROM tenants t JOIN pool_members m ON m.id = t.member_id
       WHERE t.workload_id = ? AND t.tenant_id = ? AND t.status IN ('claimed', 'releasing', 'release_failed')
         AND m.status IN ('claimed', 'releasing')`,
    )
    .get(workloadId, tenantId);
  return row?.endpoint ?? null;
}

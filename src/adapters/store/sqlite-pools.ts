/** Pool members and tenant claims in SQLite. `takeReady` is one UPDATE … RETURNING: atomic. */
import type { Database } from "bun:sqlite";
import { conflict, notFound } from "../../core/errors.ts";
import type { PoolMember, TenantClaim } from "../../core/pool.ts";
import type { PoolRepo } from "../../core/ports/store.ts";
import { memberColumns, rowToMember, rowToTenant, tenantValues, type MemberRow, type TenantRow } from "./pool-rows.ts";
import type { SqlValue } from "./rows.ts";
import { insertSql, setClause, values } from "./sql.ts";

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

  async listMembers(workloadId?: string): Promise<PoolMember[]> {
    const rows = workloadId
      ? this.db.query<MemberRow, [string]>("SELECT * FROM pool_members WHERE workload_id = ? AND status <> 'destroyed' ORDER BY created_at, id").all(workloadId)
      : this.db.query<MemberRow, []>("SELECT * FROM pool_members WHERE status <> 'destroyed' ORDER BY created_at, id").all();
    return rows.map(rowToMember);
  }

  async updateMember(id: string, patch: Partial<Omit<PoolMember, "id" | "workloadId" | "createdAt">>): Promise<PoolMember> {
    const cols = memberColumns(patch);
    let row: MemberRow | null;
    try {
      row = this.db.query<MemberRow, SqlValue[]>(`UPDATE pool_members SET ${setClause(cols)} WHERE id = ? RETURNING *`).get(...values(cols), id);
    } catch (err) {
      if (String(err).includes("UNIQUE")) throw conflict(`tenant ${patch.tenantId} already holds a member of this workload`);
      throw err;
    }
    if (!row) throw notFound(`no pool member ${id}`);
    return rowToMember(row);
  }

  async deleteMember(id: string): Promise<void> {
    this.db.query("DELETE FROM pool_members WHERE id = ?").run(id);
  }

  async drainIfReady(id: string): Promise<boolean> {
    return this.db.query("UPDATE pool_members SET status = 'draining' WHERE id = ? AND status = 'ready'").run(id).changes === 1;
  }

  async takeReady(workloadId: string, specHash: string, tenantId: string, now: number): Promise<PoolMember | null> {
    const row = this.db
      .query<MemberRow, [string, number, number, string, string]>(
        `UPDATE pool_members SET status = 'claimed', tenant_id = ?, claimed_at = ?, last_active_at = ?
         WHERE id = (SELECT id FROM pool_members WHERE workload_id = ? AND spec_hash = ? AND status = 'ready' ORDER BY ready_at, id LIMIT 1)
         RETURNING *`,
      )
      .get(tenantId, now, now, workloadId, specHash);
    return row ? rowToMember(row) : null;
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

  async putTenant(t: TenantClaim): Promise<void> {
    this.db
      .query(
        `INSERT INTO tenants (tenant_id, workload_id, member_id, status, last_sync, claimed_at, released_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, workload_id) DO UPDATE SET member_id = excluded.member_id, status = excluded.status,
           last_sync = excluded.last_sync, claimed_at = excluded.claimed_at, released_at = excluded.released_at, updated_at = excluded.updated_at`,
      )
      .run(...tenantValues(t));
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

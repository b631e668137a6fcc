/**
 * Pool members and tenant claims in Postgres. `takeReady` is one UPDATE … RETURNING whose member is
 * picked with FOR UPDATE SKIP LOCKED: concurrent claimers (in one Kiln or several) each lock a
 * different ready member instead of queueing on the same one, and the outer `status = 'ready'`
 * keeps it to members still ready. Every status write is conditional on the lifecycle, as in SQLite.
 */
import { conflict, notFound } from "../../core/errors.ts";
import { memberLifecycle, tenantLifecycle, type MemberStatus, type PoolMember, type TenantClaim } from "../../core/pool.ts";
import type { PoolRepo } from "../../core/ports/store.ts";
import { ENDPOINT_OF_TENANT_SQL } from "./postgres-endpoints.ts";
import { memberColumns, memberFilter, rowToMember, rowToTenant, tenantValues, type MemberRow, type TenantRow } from "./pool-rows.ts";
import { ints, one, pgError, rows, run, UNIQUE_VIOLATION, type Pg } from "./postgres-sql.ts";
import { insertSql, setClause, statusGuard, values } from "./sql.ts";

memberLifecycle.assert("ready", "claimed", "PgPools.takeReady");
memberLifecycle.assert("ready", "draining", "PgPools.drainIfReady");

const toMember = (r: MemberRow) => rowToMember(ints(r, ["created_at", "ready_at", "claimed_at", "last_active_at"]));
const toTenant = (r: TenantRow) => rowToTenant(ints(r, ["claimed_at", "released_at", "updated_at"]));

export class PgPools implements PoolRepo {
  constructor(private readonly db: Pg) {}

  async insertMember(m: PoolMember): Promise<void> {
    const cols = memberColumns(m);
    await run(this.db, insertSql("pool_members", cols), values(cols));
  }

  async getMember(id: string): Promise<PoolMember | null> {
    const row = await one<MemberRow>(this.db, "SELECT * FROM pool_members WHERE id = ?", [id]);
    return row ? toMember(row) : null;
  }

  async listMembers(workloadId?: string, node?: string): Promise<PoolMember[]> {
    const filter = memberFilter(workloadId, node);
    const found = await rows<MemberRow>(this.db, `SELECT * FROM pool_members WHERE ${filter.sql}status <> 'destroyed' ORDER BY created_at, id COLLATE "C"`, filter.params);
    return found.map(toMember);
  }

  async updateMember(id: string, patch: Partial<Omit<PoolMember, "id" | "workloadId" | "createdAt">>, where = "pools.updateMember"): Promise<PoolMember> {
    const cols = memberColumns(patch);
    const guard = statusGuard(memberLifecycle, patch.status);
    let row: MemberRow | null;
    try {
      row = cols.length === 0
        ? await one<MemberRow>(this.db, "SELECT * FROM pool_members WHERE id = ?", [id])
        : await one<MemberRow>(this.db, `UPDATE pool_members SET ${setClause(cols)} WHERE id = ?${guard.sql} RETURNING *`, [...values(cols), id, ...guard.params]);
    } catch (err) {
      if (pgError(err).state === UNIQUE_VIOLATION) throw conflict(`tenant ${patch.tenantId} already holds a member of this workload`);
      throw err;
    }
    if (row) return toMember(row);
    const current = (await one<{ status: MemberStatus }>(this.db, "SELECT status FROM pool_members WHERE id = ?", [id]))?.status;
    if (!current || !patch.status) throw notFound(`no pool member ${id}`);
    throw memberLifecycle.illegal(current, patch.status, where, id);
  }

  async deleteMember(id: string): Promise<void> {
    await run(this.db, "DELETE FROM pool_members WHERE id = ?", [id]);
  }

  async drainIfReady(id: string): Promise<boolean> {
    return (await run(this.db, "UPDATE pool_members SET status = 'draining' WHERE id = ? AND status = 'ready'", [id])) === 1;
  }

  async takeReady(workloadId: string, specHash: string, tenantId: string, now: number, node: string): Promise<PoolMember | null> {
    const row = await one<MemberRow>(
      this.db,
      `UPDATE pool_members SET status = 'claimed', tenant_id = ?, claimed_at = ?, last_active_at = ?
       WHERE id = (SELECT id FROM pool_members WHERE workload_id = ? AND node = ? AND spec_hash = ? AND status = 'ready'
                   ORDER BY ready_at, id COLLATE "C" LIMIT 1 FOR UPDATE SKIP LOCKED)
         AND status = 'ready'
       RETURNING *`,
      [tenantId, now, now, workloadId, node, specHash],
    );
    return row ? toMember(row) : null;
  }

  async adoptMembers(node: string): Promise<number> {
    return run(this.db, "UPDATE pool_members SET node = ? WHERE node = ''", [node]);
  }

  async memberOfTenant(workloadId: string, tenantId: string): Promise<PoolMember | null> {
    const row = await one<MemberRow>(this.db, "SELECT * FROM pool_members WHERE workload_id = ? AND tenant_id = ? AND status IN ('claimed', 'releasing')", [workloadId, tenantId]);
    return row ? toMember(row) : null;
  }

  async endpointOfTenant(workloadId: string, tenantId: string): Promise<string | null> {
    return (await one<{ endpoint: string | null }>(this.db, ENDPOINT_OF_TENANT_SQL, [workloadId, tenantId]))?.endpoint ?? null;
  }

  /** Upserts the row, its status only from one the tenant lifecycle allows (a missing row counts as `released`). One statement. */
  async putTenant(t: TenantClaim, where = "pools.putTenant"): Promise<void> {
    const guard = statusGuard(tenantLifecycle, t.status, "tenants.status");
    const set = "member_id = ?, status = ?, last_sync = ?, claimed_at = ?, released_at = ?, updated_at = ?";
    const [tenantId, workloadId, ...rest] = tenantValues(t);
    const written = tenantLifecycle.can("released", t.status)
      ? await one<{ status: string }>(
          this.db,
          `INSERT INTO tenants (tenant_id, workload_id, member_id, status, last_sync, claimed_at, released_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (tenant_id, workload_id) DO UPDATE SET ${set} WHERE TRUE${guard.sql} RETURNING status`,
          [tenantId, workloadId, ...rest, ...rest, ...guard.params],
        )
      : await one<{ status: string }>(this.db, `UPDATE tenants SET ${set} WHERE tenant_id = ? AND workload_id = ?${guard.sql} RETURNING status`, [...rest, tenantId, workloadId, ...guard.params]);
    if (written) return;
    const current = (await this.getTenant(t.tenantId, t.workloadId))?.status ?? "released";
    throw tenantLifecycle.illegal(current, t.status, where, `${t.tenantId}/${t.workloadId}`);
  }

  async getTenant(tenantId: string, workloadId: string): Promise<TenantClaim | null> {
    const row = await one<TenantRow>(this.db, "SELECT * FROM tenants WHERE tenant_id = ? AND workload_id = ?", [tenantId, workloadId]);
    return row ? toTenant(row) : null;
  }

  async listTenants(tenantId?: string): Promise<TenantClaim[]> {
    const found = tenantId
      ? await rows<TenantRow>(this.db, `SELECT * FROM tenants WHERE tenant_id = ? ORDER BY workload_id COLLATE "C"`, [tenantId])
      : await rows<TenantRow>(this.db, `SELECT * FROM tenants ORDER BY tenant_id COLLATE "C", workload_id COLLATE "C"`);
    return found.map(toTenant);
  }
}

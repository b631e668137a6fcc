/**
 * The tenant resolver's view of a Postgres store (the counterpart of sqlite-endpoints.ts): the one
 * question it asks, where a tenant's traffic goes, over a small pool of its own. Connects lazily,
 * so a resolver started while Postgres is away answers once it is back; never writes. Errors name
 * the database without its password.
 */
import { SQL } from "bun";
import type { PoolRepo } from "../../core/ports/store.ts";
import { numbered, redactIn } from "./postgres-sql.ts";

/** Where a tenant's requests go once its claim has completed (PoolRepo.endpointOfTenant; PgPools runs the same). */
export const ENDPOINT_OF_TENANT_SQL = `SELECT m.endpoint FROM tenants t JOIN pool_members m ON m.id = t.member_id
  WHERE t.workload_id = ? AND t.tenant_id = ? AND t.status IN ('claimed', 'releasing', 'release_failed')
    AND m.status IN ('claimed', 'releasing')`;

export class PostgresEndpointReader implements Pick<PoolRepo, "endpointOfTenant"> {
  readonly #db: SQL;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
    try {
      this.#db = new SQL(url, { max: 2, connectionTimeout: 5, idleTimeout: 300 });
    } catch (err) {
      throw new Error(redactIn(err instanceof Error ? err.message : String(err), url));
    }
  }

  async endpointOfTenant(workloadId: string, tenantId: string): Promise<string | null> {
    try {
      const found = (await this.#db.unsafe(numbered(ENDPOINT_OF_TENANT_SQL), [workloadId, tenantId])) as Array<{ endpoint: string | null }>;
      return found[0]?.endpoint ?? null;
    } catch (err) {
      throw new Error(`reading the tenant's endpoint: ${redactIn(err instanceof Error ? err.message : String(err), this.#url)}`);
    }
  }

  async close(): Promise<void> {
    await this.#db.close({ timeout: 1 });
  }
}

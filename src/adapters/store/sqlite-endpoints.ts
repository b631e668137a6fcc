/**
 * A read-only view of Kiln's SQLite database for the tenant resolver process: the one question it
 * asks (where does a tenant's traffic go). WAL mode lets it read while Kiln writes; it never writes.
 */
import { Database } from "bun:sqlite";
import { KilnError } from "../../core/errors.ts";
import type { PoolRepo } from "../../core/ports/store.ts";
import { endpointOfTenant } from "./sqlite-pools.ts";

export class SqliteEndpointReader implements Pick<PoolRepo, "endpointOfTenant"> {
  readonly #db: Database;

  constructor(path: string) {
    try {
      this.#db = new Database(path, { readonly: true });
    } catch (err) {
      throw new KilnError("internal", `cannot open the database at ${path} to read: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#db.exec("PRAGMA busy_timeout = 1000");
  }

  async endpointOfTenant(workloadId: string, tenantId: string): Promise<string | null> {
    return endpointOfTenant(this.#db, workloadId, tenantId);
  }

  close(): void {
    this.#db.close();
  }
}

/** Releases in SQLite (table `releases`, migration 5); rows mapped in rows.ts. Deleted with their deployment (cascade). */
import type { Database } from "bun:sqlite";
import { conflict, notFound } from "../../core/errors.ts";
import type { ReleaseRepo } from "../../core/ports/store.ts";
import type { Release } from "../../core/release.ts";
import { insertSql, sqliteCode, values } from "./sql.ts";
import { recordColumns, releaseColumns, rowToRelease, type ReleaseRow } from "./rows.ts";

export class SqliteReleases implements ReleaseRepo {
  constructor(private readonly db: Database) {}

  async insert(r: Release): Promise<void> {
    const cols = recordColumns(releaseColumns, r);
    try {
      this.db.query(insertSql("releases", cols)).run(...values(cols));
    } catch (err) {
      const code = sqliteCode(err);
      if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") throw notFound(`deployment ${r.deploymentId} not found`);
      if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw conflict(`release #${r.number} of deployment ${r.deploymentId} already exists`, "take the number from releases.nextNumber()");
      }
      throw err;
    }
  }

  async get(id: string): Promise<Release | null> {
    const row = this.db.query<ReleaseRow, [string]>("SELECT * FROM releases WHERE id = ?").get(id);
    return row ? rowToRelease(row) : null;
  }

  async getByNumber(deploymentId: string, number: number): Promise<Release | null> {
    const row = this.db.query<ReleaseRow, [string, number]>("SELECT * FROM releases WHERE deployment_id = ? AND number = ?").get(deploymentId, number);
    return row ? rowToRelease(row) : null;
  }

  async listFor(deploymentId: string): Promise<Release[]> {
    return this.db.query<ReleaseRow, [string]>("SELECT * FROM releases WHERE deployment_id = ? ORDER BY number DESC").all(deploymentId).map(rowToRelease);
  }

  async nextNumber(deploymentId: string): Promise<number> {
    const row = this.db.query<{ next: number }, [string]>("SELECT COALESCE(MAX(number), 0) + 1 AS next FROM releases WHERE deployment_id = ?").get(deploymentId);
    return row?.next ?? 1;
  }

  async delete(id: string): Promise<void> {
    this.db.query("DELETE FROM releases WHERE id = ?").run(id);
  }
}

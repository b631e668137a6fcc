/** Releases in Postgres (table `releases`, migration 5); rows mapped in rows.ts. Deleted with their deployment (cascade). */
import { conflict, notFound } from "../../core/errors.ts";
import type { ReleaseRepo } from "../../core/ports/store.ts";
import type { Release } from "../../core/release.ts";
import { FOREIGN_KEY_VIOLATION, ints, one, pgError, rows, run, UNIQUE_VIOLATION, type Pg } from "./postgres-sql.ts";
import { recordColumns, releaseColumns, rowToRelease, type ReleaseRow } from "./rows.ts";
import { insertSql, values } from "./sql.ts";

const toRelease = (r: ReleaseRow) => rowToRelease(ints(r, ["created_at"]));

export class PgReleases implements ReleaseRepo {
  constructor(private readonly db: Pg) {}

  async insert(r: Release): Promise<void> {
    const cols = recordColumns(releaseColumns, r);
    try {
      await run(this.db, insertSql("releases", cols), values(cols));
    } catch (err) {
      const { state } = pgError(err);
      if (state === FOREIGN_KEY_VIOLATION) throw notFound(`deployment ${r.deploymentId} not found`);
      if (state === UNIQUE_VIOLATION) throw conflict(`release #${r.number} of deployment ${r.deploymentId} already exists`, "take the number from releases.nextNumber()");
      throw err;
    }
  }

  async get(id: string): Promise<Release | null> {
    const row = await one<ReleaseRow>(this.db, "SELECT * FROM releases WHERE id = ?", [id]);
    return row ? toRelease(row) : null;
  }

  async getByNumber(deploymentId: string, number: number): Promise<Release | null> {
    const row = await one<ReleaseRow>(this.db, "SELECT * FROM releases WHERE deployment_id = ? AND number = ?", [deploymentId, number]);
    return row ? toRelease(row) : null;
  }

  async listFor(deploymentId: string): Promise<Release[]> {
    return (await rows<ReleaseRow>(this.db, "SELECT * FROM releases WHERE deployment_id = ? ORDER BY number DESC", [deploymentId])).map(toRelease);
  }

  async nextNumber(deploymentId: string): Promise<number> {
    const row = await one<{ next: number }>(this.db, "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM releases WHERE deployment_id = ?", [deploymentId]);
    return Number(row?.next ?? 1);
  }

  async delete(id: string): Promise<void> {
    await run(this.db, "DELETE FROM releases WHERE id = ?", [id]);
  }
}

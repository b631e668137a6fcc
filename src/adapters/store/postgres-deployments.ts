/**
 * Deployments and builds in Postgres; rows mapped in rows.ts, as for SQLite. A status is written
 * by one conditional UPDATE … RETURNING (statusGuard): a concurrent writer's row lock makes the
 * second re-check the status it waited for, so two Kilns never both make a move the lifecycle
 * allows only once. Deleting a deployment cascades to its builds, releases, domains and
 * deliveries, and removes its log chunks in the same transaction.
 */
import { buildLifecycle, deploymentLifecycle, type Build, type BuildStatus, type Deployment, type DeploymentStatus } from "../../core/deployment.ts";
import { conflict, notFound } from "../../core/errors.ts";
import type { BuildRepo, DeploymentRepo } from "../../core/ports/store.ts";
import { FOREIGN_KEY_VIOLATION, ints, isPrimaryKeyViolation, one, pgError, rows, run, UNIQUE_VIOLATION, type Pg } from "./postgres-sql.ts";
import { buildColumns, deploymentColumns, patchColumns, recordColumns, rowToBuild, rowToDeployment, type BuildRow, type DeploymentRow } from "./rows.ts";
import { insertSql, setClause, statusGuard, values } from "./sql.ts";

const toDeployment = (r: DeploymentRow) => rowToDeployment(ints(r, ["created_at", "updated_at"]));
const toBuild = (r: BuildRow) => rowToBuild(ints(r, ["created_at", "finished_at"]));

export class PgDeployments implements DeploymentRepo {
  constructor(private readonly db: Pg) {}

  async insert(d: Deployment): Promise<void> {
    const cols = recordColumns(deploymentColumns, d);
    try {
      await run(this.db, insertSql("deployments", cols), values(cols));
    } catch (err) {
      throw deploymentWriteError(err, d.id, d.name);
    }
  }

  async get(id: string): Promise<Deployment | null> {
    const row = await one<DeploymentRow>(this.db, "SELECT * FROM deployments WHERE id = ?", [id]);
    return row ? toDeployment(row) : null;
  }

  async getByName(name: string): Promise<Deployment | null> {
    const row = await one<DeploymentRow>(this.db, "SELECT * FROM deployments WHERE name = ?", [name]);
    return row ? toDeployment(row) : null;
  }

  async list(): Promise<Deployment[]> {
    return (await rows<DeploymentRow>(this.db, `SELECT * FROM deployments ORDER BY created_at, id COLLATE "C"`)).map(toDeployment);
  }

  async update(id: string, patch: Partial<Omit<Deployment, "id" | "createdAt">>, where = "deployments.update"): Promise<Deployment> {
    const cols = patchColumns(deploymentColumns, { ...patch, updatedAt: patch.updatedAt ?? Date.now() }, ["id", "createdAt"]);
    const guard = statusGuard(deploymentLifecycle, patch.status);
    let row: DeploymentRow | null;
    try {
      row = await one<DeploymentRow>(this.db, `UPDATE deployments SET ${setClause(cols)} WHERE id = ?${guard.sql} RETURNING *`, [...values(cols), id, ...guard.params]);
    } catch (err) {
      throw deploymentWriteError(err, id, patch.name ?? "");
    }
    if (row) return toDeployment(row);
    const current = await currentStatus<DeploymentStatus>(this.db, "deployments", id);
    if (!current || !patch.status) throw notFound(`deployment ${id} not found`);
    throw deploymentLifecycle.illegal(current, patch.status, where, id);
  }

  /** Removes the deployment, what cascades from it, and its log chunks. A missing id is a no-op. */
  async delete(id: string): Promise<void> {
    await this.db.begin(async (tx) => {
      await run(tx, "DELETE FROM log_chunks WHERE stream = ?", [id]); // a deployment's stream key is its id
      await run(tx, "DELETE FROM deployments WHERE id = ?", [id]);
    });
  }
}

export class PgBuilds implements BuildRepo {
  constructor(private readonly db: Pg) {}

  async insert(b: Build): Promise<void> {
    const cols = recordColumns(buildColumns, b);
    try {
      await run(this.db, insertSql("builds", cols), values(cols));
    } catch (err) {
      const { state } = pgError(err);
      if (state === FOREIGN_KEY_VIOLATION) throw notFound(`deployment ${b.deploymentId} not found`, "create the deployment before its builds");
      if (isPrimaryKeyViolation(err)) throw conflict(`build ${b.id} already exists`);
      if (state === UNIQUE_VIOLATION) throw conflict(`build #${b.number} of deployment ${b.deploymentId} already exists`, "take the number from builds.nextNumber()");
      throw err;
    }
  }

  async get(id: string): Promise<Build | null> {
    const row = await one<BuildRow>(this.db, "SELECT * FROM builds WHERE id = ?", [id]);
    return row ? toBuild(row) : null;
  }

  async listFor(deploymentId: string): Promise<Build[]> {
    return (await rows<BuildRow>(this.db, "SELECT * FROM builds WHERE deployment_id = ? ORDER BY number DESC", [deploymentId])).map(toBuild);
  }

  async nextNumber(deploymentId: string): Promise<number> {
    const row = await one<{ next: number }>(this.db, "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM builds WHERE deployment_id = ?", [deploymentId]);
    return Number(row?.next ?? 1);
  }

  async update(id: string, patch: Partial<Omit<Build, "id" | "deploymentId" | "createdAt">>, where = "builds.update"): Promise<Build> {
    const cols = patchColumns(buildColumns, patch, ["id", "deploymentId", "createdAt"]);
    const guard = statusGuard(buildLifecycle, patch.status);
    const row =
      cols.length === 0
        ? await one<BuildRow>(this.db, "SELECT * FROM builds WHERE id = ?", [id])
        : await one<BuildRow>(this.db, `UPDATE builds SET ${setClause(cols)} WHERE id = ?${guard.sql} RETURNING *`, [...values(cols), id, ...guard.params]);
    if (row) return toBuild(row);
    const current = await currentStatus<BuildStatus>(this.db, "builds", id);
    if (!current || !patch.status) throw notFound(`build ${id} not found`);
    throw buildLifecycle.illegal(current, patch.status, where, id);
  }
}

/** The status of one row, read only after a conditional write matched nothing (to name it in the error). */
async function currentStatus<S extends string>(db: Pg, table: "deployments" | "builds", id: string): Promise<S | null> {
  return (await one<{ status: S }>(db, `SELECT status FROM ${table} WHERE id = ?`, [id]))?.status ?? null;
}

function deploymentWriteError(err: unknown, id: string, name: string): unknown {
  if (isPrimaryKeyViolation(err)) return conflict(`deployment ${id} already exists`);
  if (pgError(err).state === UNIQUE_VIOLATION) return conflict(`a deployment named "${name}" already exists`, "pick another name, or delete that deployment first");
  return err;
}

/**
 * The embedded store: one SQLite file, WAL mode, foreign keys on, a busy timeout so a second
 * connection (a CLI, a backup) waits instead of failing. Migrations run at open (migrations.ts).
 *
 *   const store = SqliteStore.open("/var/lib/kiln/kiln.db");
 *
 * Deleting a deployment cascades to its builds and also removes its log chunks.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { buildLifecycle, deploymentLifecycle, type Build, type BuildStatus, type Deployment, type DeploymentStatus } from "../../core/deployment.ts";
import { badRequest, conflict, KilnError, notFound } from "../../core/errors.ts";
import type { LogLine, StreamKey } from "../../core/logs.ts";
import type { BuildRepo, DeliveryRepo, DeploymentRepo, DomainRepo, LogArchive, LogSources, LogTiers, PoolRepo, ReleaseRepo, SecretRepo, Store } from "../../core/ports/store.ts";
import { SqlitePools } from "./sqlite-pools.ts";
import { SqliteReleases } from "./sqlite-releases.ts";
import { SqliteDeliveries, SqliteDomains } from "./sqlite-domains.ts";
import { describeOldChunks, SqliteLogs } from "./sqlite-logs.ts";
import { SqliteLogTiers } from "./sqlite-log-tiers.ts";
import { insertSql, setClause, sqliteCode, statusGuard, values } from "./sql.ts";
import { migrations, pendingMigrations, schemaMigrationsTableSql } from "./migrations.ts";
import {
  buildColumns,
  decodeLines,
  deploymentColumns,
  encodeLines,
  patchColumns,
  recordColumns,
  rowToBuild,
  rowToDeployment,
  type BuildRow,
  type DeploymentRow,
  type SqlValue,
} from "./rows.ts";

const BUSY_TIMEOUT_MS = 5000;

export class SqliteStore implements Store {
  readonly deployments: DeploymentRepo;
  readonly builds: BuildRepo;
  readonly releases: ReleaseRepo;
  readonly domains: DomainRepo;
  readonly deliveries: DeliveryRepo;
  readonly logs: LogArchive & LogSources;
  /** Which chunks are cold, and the offloaded segments (src/logs/offload.ts). */
  readonly logTiers: LogTiers;
  readonly secrets: SecretRepo;
  readonly pools: PoolRepo;
  private closed = false;

  private constructor(private readonly db: Database) {
    this.deployments = new SqliteDeployments(db);
    this.builds = new SqliteBuilds(db);
    this.releases = new SqliteReleases(db);
    this.domains = new SqliteDomains(db);
    this.deliveries = new SqliteDeliveries(db);
    this.logs = new SqliteLogs(db);
    this.logTiers = new SqliteLogTiers(db);
    this.secrets = new SqliteSecrets(db);
    this.pools = new SqlitePools(db);
  }

  /** Opens (creating if needed, with its folder) the database at `path` and applies pending migrations. */
  static open(path: string): SqliteStore {
    if (path !== ":memory:" && !path.startsWith("file:")) mkdirSync(dirname(path), { recursive: true });
    let db: Database;
    try {
      db = new Database(path, { create: true });
    } catch (err) {
      throw new KilnError(
        "internal",
        `cannot open the database at ${path}: ${err instanceof Error ? err.message : String(err)}`,
        "check that the data directory exists and is writable by kiln",
      );
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = NORMAL");
    // Overwrite deleted content with zeros, so a secret replaced by its sealed form (or deleted) is not left in free pages.
    db.exec("PRAGMA secure_delete = ON");
    migrate(db);
    describeOldChunks(db);
    return new SqliteStore(db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** Applies pending migrations in one write transaction, so two processes opening at once don't both apply. */
function migrate(db: Database): void {
  db.transaction(() => {
    db.exec(schemaMigrationsTableSql);
    const applied = new Set(db.query<{ id: number }, []>("SELECT id FROM schema_migrations").all().map((r) => r.id));
    const record = db.query("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)");
    for (const m of pendingMigrations(migrations, applied)) {
      db.exec(m.sql);
      record.run(m.id, m.name, Date.now());
    }
  }).immediate();
}

class SqliteDeployments implements DeploymentRepo {
  constructor(private readonly db: Database) {}

  async insert(d: Deployment): Promise<void> {
    const cols = recordColumns(deploymentColumns, d);
    try {
      this.db.query(insertSql("deployments", cols)).run(...values(cols));
    } catch (err) {
      throw deploymentWriteError(err, d.id, d.name);
    }
  }

  async get(id: string): Promise<Deployment | null> {
    const row = this.db.query<DeploymentRow, [string]>("SELECT * FROM deployments WHERE id = ?").get(id);
    return row ? rowToDeployment(row) : null;
  }

  async getByName(name: string): Promise<Deployment | null> {
    const row = this.db.query<DeploymentRow, [string]>("SELECT * FROM deployments WHERE name = ?").get(name);
    return row ? rowToDeployment(row) : null;
  }

  async list(): Promise<Deployment[]> {
    const rows = this.db.query<DeploymentRow, []>("SELECT * FROM deployments ORDER BY created_at, id").all();
    return rows.map(rowToDeployment);
  }

  /**
   * Sets the given fields; `updatedAt` is set to now unless the patch gives it. A status is set only
   * from a status its lifecycle allows (one conditional UPDATE), else IllegalMove names the current one.
   */
  async update(id: string, patch: Partial<Omit<Deployment, "id" | "createdAt">>, where = "deployments.update"): Promise<Deployment> {
    const cols = patchColumns(deploymentColumns, { ...patch, updatedAt: patch.updatedAt ?? Date.now() }, [
      "id",
      "createdAt",
    ]);
    const guard = statusGuard(deploymentLifecycle, patch.status);
    let row: DeploymentRow | null;
    try {
      row = this.db
        .query<DeploymentRow, SqlValue[]>(`UPDATE deployments SET ${setClause(cols)} WHERE id = ?${guard.sql} RETURNING *`)
        .get(...values(cols), id, ...guard.params);
    } catch (err) {
      throw deploymentWriteError(err, id, patch.name ?? "");
    }
    if (row) return rowToDeployment(row);
    const current = currentStatus<DeploymentStatus>(this.db, "deployments", id);
    if (!current || !patch.status) throw notFound(`deployment ${id} not found`);
    throw deploymentLifecycle.illegal(current, patch.status, where, id);
  }

  /** Removes the deployment, its builds (cascade) and its log chunks. A missing id is a no-op. */
  async delete(id: string): Promise<void> {
    this.db.transaction(() => {
      this.db.query("DELETE FROM log_chunks WHERE stream = ?").run(id); // a deployment's stream key is its id
      this.db.query("DELETE FROM deployments WHERE id = ?").run(id);
    })();
  }
}

class SqliteBuilds implements BuildRepo {
  constructor(private readonly db: Database) {}

  async insert(b: Build): Promise<void> {
    const cols = recordColumns(buildColumns, b);
    try {
      this.db.query(insertSql("builds", cols)).run(...values(cols));
    } catch (err) {
      const code = sqliteCode(err);
      if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") {
        throw notFound(`deployment ${b.deploymentId} not found`, "create the deployment before its builds");
      }
      if (code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw conflict(`build ${b.id} already exists`);
      if (code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw conflict(
          `build #${b.number} of deployment ${b.deploymentId} already exists`,
          "take the number from builds.nextNumber()",
        );
      }
      throw err;
    }
  }

  async get(id: string): Promise<Build | null> {
    const row = this.db.query<BuildRow, [string]>("SELECT * FROM builds WHERE id = ?").get(id);
    return row ? rowToBuild(row) : null;
  }

  async listFor(deploymentId: string): Promise<Build[]> {
    const rows = this.db
      .query<BuildRow, [string]>("SELECT * FROM builds WHERE deployment_id = ? ORDER BY number DESC")
      .all(deploymentId);
    return rows.map(rowToBuild);
  }

  async nextNumber(deploymentId: string): Promise<number> {
    const row = this.db
      .query<{ next: number }, [string]>("SELECT COALESCE(MAX(number), 0) + 1 AS next FROM builds WHERE deployment_id = ?")
      .get(deploymentId);
    return row?.next ?? 1;
  }

  /** Like deployments.update: a status only from a status the build lifecycle allows. */
  async update(id: string, patch: Partial<Omit<Build, "id" | "deploymentId" | "createdAt">>, where = "builds.update"): Promise<Build> {
    const cols = patchColumns(buildColumns, patch, ["id", "deploymentId", "createdAt"]);
    const guard = statusGuard(buildLifecycle, patch.status);
    const row =
      cols.length === 0
        ? this.db.query<BuildRow, [string]>("SELECT * FROM builds WHERE id = ?").get(id)
        : this.db
            .query<BuildRow, SqlValue[]>(`UPDATE builds SET ${setClause(cols)} WHERE id = ?${guard.sql} RETURNING *`)
            .get(...values(cols), id, ...guard.params);
    if (row) return rowToBuild(row);
    const current = currentStatus<BuildStatus>(this.db, "builds", id);
    if (!current || !patch.status) throw notFound(`build ${id} not found`);
    throw buildLifecycle.illegal(current, patch.status, where, id);
  }
}

class SqliteSecrets implements SecretRepo {
  constructor(private readonly db: Database) {}

  async put(key: string, value: string): Promise<void> {
    this.db
      .query("INSERT INTO secrets (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(key, value);
  }

  async get(key: string): Promise<string | null> {
    const row = this.db.query<{ value: string }, [string]>("SELECT value FROM secrets WHERE key = ?").get(key);
    return row?.value ?? null;
  }

  /** Deletes every key starting with `prefix` (matched literally: no LIKE wildcards). */
  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === "") throw badRequest("refusing to delete every secret", "pass a non-empty key prefix");
    this.db.query("DELETE FROM secrets WHERE substr(key, 1, length(?)) = ?").run(prefix, prefix);
  }

  /** Keys starting with `prefix` (matched literally; "" lists all), sorted. */
  async list(prefix: string): Promise<string[]> {
    return this.db
      .query<{ key: string }, [string, string]>("SELECT key FROM secrets WHERE substr(key, 1, length(?)) = ? ORDER BY key")
      .all(prefix, prefix)
      .map((r) => r.key);
  }
}


/** The status of one row, read only after a conditional write matched nothing (to name it in the error). */
function currentStatus<S extends string>(db: Database, table: "deployments" | "builds", id: string): S | null {
  return (db.query<{ status: S }, [string]>(`SELECT status FROM ${table} WHERE id = ?`).get(id)?.status ?? null);
}


function deploymentWriteError(err: unknown, id: string, name: string): unknown {
  const code = sqliteCode(err);
  if (code === "SQLITE_CONSTRAINT_PRIMARYKEY") return conflict(`deployment ${id} already exists`);
  if (code === "SQLITE_CONSTRAINT_UNIQUE") {
    return conflict(`a deployment named "${name}" already exists`, "pick another name, or delete that deployment first");
  }
  return err;
}

/**
 * The shared store: PostgreSQL over Bun's built-in client (`Bun.SQL`), chosen by KILN_DATABASE_URL;
 * the same Store as SqliteStore, the same numbered migrations (migrations.ts, a migration's
 * `postgres` form where it has one), so several Kilns can share one database.
 *
 *   const store = await PostgresStore.open("postgres://kiln:…@127.0.0.1:5432/kiln");
 *
 * Atomicity is the database's, not a process's: status writes are one conditional UPDATE (row
 * locks settle races), a claim takes its member with FOR UPDATE SKIP LOCKED, multi-statement
 * writes run in a transaction, and work two Kilns must not interleave (migrations, a log stream's
 * prune or offload) holds a transaction-scoped advisory lock.
 */
import { SQL } from "bun";
import { KilnError, badRequest, errorMessage } from "../../core/errors.ts";
import type { BuildRepo, DeliveryRepo, DeploymentRepo, DomainRepo, LogArchive, LogSources, LogTiers, PoolRepo, ReleaseRepo, SecretRepo, Store } from "../../core/ports/store.ts";
import { migrations, pendingMigrations, schemaMigrationsTableSql } from "./migrations.ts";
import { PgBuilds, PgDeployments } from "./postgres-deployments.ts";
import { PgDeliveries, PgDomains } from "./postgres-domains.ts";
import { PgLogTiers } from "./postgres-log-tiers.ts";
import { PgLogs } from "./postgres-logs.ts";
import { PgPools } from "./postgres-pools.ts";
import { PgReleases } from "./postgres-releases.ts";
import { LOCK, one, redactDatabaseUrl, redactIn, rows, run, type Pg } from "./postgres-sql.ts";

export interface PostgresOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
}

export class PostgresStore implements Store {
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

  private constructor(private readonly db: Pg) {
    this.deployments = new PgDeployments(db);
    this.builds = new PgBuilds(db);
    this.releases = new PgReleases(db);
    this.domains = new PgDomains(db);
    this.deliveries = new PgDeliveries(db);
    this.logs = new PgLogs(db);
    this.logTiers = new PgLogTiers(db);
    this.secrets = new PgSecrets(db);
    this.pools = new PgPools(db);
  }

  /** Connects and applies pending migrations. Errors name the database without its password. */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    let db: Pg;
    try {
      db = new SQL(url, { max: opts.max ?? 10, connectionTimeout: 10 });
    } catch (err) {
      throw badRequest(`KILN_DATABASE_URL: ${redactIn(errorMessage(err), url)}`, "give postgres://user:password@host:port/database");
    }
    try {
      await migrate(db);
    } catch (err) {
      await db.close({ timeout: 0 }).catch(() => {});
      throw new KilnError(
        "unavailable",
        `cannot open the Postgres database ${redactDatabaseUrl(url)}: ${redactIn(errorMessage(err), url)}`,
        "check KILN_DATABASE_URL, that the server answers there, and that the role may create tables in that database",
      );
    }
    return new PostgresStore(db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close({ timeout: 5 });
  }
}

/**
 * Applies pending migrations in one transaction under an advisory lock, so two Kilns starting at
 * once take turns: the second finds them applied. A migration's `postgres` form runs where it has one.
 */
async function migrate(db: Pg): Promise<void> {
  await db.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock($1::int, 0)", [LOCK.migrations]);
    await tx.unsafe(schemaMigrationsTableSql);
    const applied = new Set((await rows<{ id: number }>(tx, "SELECT id FROM schema_migrations")).map((r) => r.id));
    for (const m of pendingMigrations(migrations, applied)) {
      await tx.unsafe(m.postgres ?? m.sql);
      await run(tx, "INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)", [m.id, m.name, Date.now()]);
    }
  });
}

class PgSecrets implements SecretRepo {
  constructor(private readonly db: Pg) {}

  async put(key: string, value: string): Promise<void> {
    await run(this.db, "INSERT INTO secrets (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [key, value]);
  }

  async get(key: string): Promise<string | null> {
    return (await one<{ value: string }>(this.db, "SELECT value FROM secrets WHERE key = ?", [key]))?.value ?? null;
  }

  /** Deletes every key starting with `prefix` (matched literally: no LIKE wildcards). */
  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === "") throw badRequest("refusing to delete every secret", "pass a non-empty key prefix");
    await run(this.db, "DELETE FROM secrets WHERE starts_with(key, ?::text)", [prefix]);
  }

  /** Keys starting with `prefix` (matched literally; "" lists all), sorted bytewise like SQLite. */
  async list(prefix: string): Promise<string[]> {
    return (await rows<{ key: string }>(this.db, `SELECT key FROM secrets WHERE starts_with(key, ?::text) ORDER BY key COLLATE "C"`, [prefix])).map((r) => r.key);
  }
}

/**
 * The schema as numbered migrations, kept as data so every store runs the same list.
 * SQL here stays portable to Postgres: TEXT ids, BIGINT epoch milliseconds, JSON kept as TEXT,
 * no AUTOINCREMENT, no SQLite-only functions. A store applies the pending ones, in id order,
 * inside one transaction at open, and records each in `schema_migrations`.
 *
 * Never edit a migration that has shipped: append a new one.
 */
export interface Migration {
  id: number;
  name: string;
  /** One or more statements separated by ';'. */
  sql: string;
  /**
   * Postgres's form, only where the portable SQL cannot say the same thing there (e.g. a BLOB that
   * SQLite keeps in a TEXT column must be BYTEA). Same meaning; absent: `sql` runs on both.
   */
  postgres?: string;
}

export const schemaMigrationsTableSql = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: "init",
    sql: `
CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  env_keys TEXT NOT NULL,
  status TEXT NOT NULL,
  current_build_id TEXT,
  failure_reason TEXT,
  container_id TEXT,
  upstream TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE builds (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  status TEXT NOT NULL,
  builder TEXT,
  image TEXT,
  commit_sha TEXT,
  steps TEXT NOT NULL,
  error TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  UNIQUE (deployment_id, number)
);

CREATE TABLE log_chunks (
  deployment_id TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (deployment_id, first_seq)
);

CREATE INDEX log_chunks_by_last_seq ON log_chunks (deployment_id, last_seq);

CREATE TABLE secrets (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
)`,
  },
  {
    id: 2,
    name: "pools",
    sql: `
CREATE TABLE pool_members (
  id TEXT PRIMARY KEY,
  workload_id TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  container_id TEXT,
  status TEXT NOT NULL,
  tenant_id TEXT,
  endpoint TEXT,
  created_at BIGINT NOT NULL,
  ready_at BIGINT,
  claimed_at BIGINT,
  last_active_at BIGINT
);

CREATE INDEX pool_members_ready ON pool_members (workload_id, status, ready_at);

CREATE UNIQUE INDEX pool_members_one_per_tenant ON pool_members (workload_id, tenant_id)
  WHERE status IN ('claimed', 'releasing');

CREATE TABLE tenants (
  tenant_id TEXT NOT NULL,
  workload_id TEXT NOT NULL,
  member_id TEXT,
  status TEXT NOT NULL,
  last_sync TEXT,
  claimed_at BIGINT,
  released_at BIGINT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, workload_id)
)`,
  },
  {
    id: 3,
    name: "log chunks keyed by stream",
    // A log stream is a deployment's (key = its id, so stored lines keep their key) or a tenant's
    // (src/logs/streams.ts); the index on (stream, last_seq) follows the rename.
    sql: "ALTER TABLE log_chunks RENAME COLUMN deployment_id TO stream",
  },
  {
    id: 4,
    name: "deployments join user-named networks",
    // JSON array of Docker network names; existing deployments join none.
    sql: "ALTER TABLE deployments ADD COLUMN networks TEXT NOT NULL DEFAULT '[]'",
  },
  {
    id: 5,
    name: "releases, settings and replicas",
    // A deployment serves from `instances` (JSON list of {containerId, upstream}, one per replica);
    // the old single container_id/upstream columns are copied there and no longer written.
    // `settings` is JSON (src/core/settings.ts; missing fields take their defaults). A build records
    // the port its builder guessed. Releases: one row per release; env values live in the secret store.
    sql: `
ALTER TABLE deployments ADD COLUMN instances TEXT NOT NULL DEFAULT '[]';
UPDATE deployments SET instances = '[{"containerId":"' || container_id || '","upstream":' ||
  CASE WHEN upstream IS NULL THEN 'null' ELSE '"' || upstream || '"' END || '}]'
  WHERE container_id IS NOT NULL;
ALTER TABLE deployments ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deployments ADD COLUMN current_release_id TEXT;
ALTER TABLE builds ADD COLUMN port INTEGER;
CREATE TABLE releases (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  build_id TEXT NOT NULL,
  image TEXT NOT NULL,
  build_port INTEGER,
  env_keys TEXT NOT NULL,
  settings TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  via TEXT NOT NULL,
  rollback_of INTEGER,
  description TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (deployment_id, number)
)`,
  },
  {
    id: 6,
    name: "domains, webhook deliveries, previews",
    // A host belongs to one deployment (primary key). Webhook deliveries are remembered per deployment
    // so a redelivery builds nothing; their secret lives in the secret store. A preview deployment
    // carries `preview` (JSON: parent, number, ref, commit, fork…), null for every other deployment.
    sql: `
CREATE TABLE domains (
  host TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL
);
CREATE INDEX domains_deployment ON domains (deployment_id);
CREATE TABLE webhook_deliveries (
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  delivery_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (deployment_id, delivery_id)
);
ALTER TABLE deployments ADD COLUMN preview TEXT`,
  },
  {
    id: 7,
    name: "builds record the builder's plan",
    sql: "ALTER TABLE builds ADD COLUMN plan TEXT",
  },
  {
    id: 8,
    name: "log chunks compressed, with their time span, streams and size",
    // New chunks keep zstd-compressed JSON in `lines` (a BLOB; Postgres: BYTEA) and say so in
    // `codec`; old rows stay plain JSON text ('json'). min_ts/max_ts and `kinds` (",build,system,")
    // let a search skip chunks; `bytes` (as stored) is what size retention counts. The store fills
    // them for old rows at open (sqlite-logs.ts: describeOldChunks).
    sql: `
ALTER TABLE log_chunks ADD COLUMN codec TEXT NOT NULL DEFAULT 'json';
ALTER TABLE log_chunks ADD COLUMN min_ts BIGINT;
ALTER TABLE log_chunks ADD COLUMN max_ts BIGINT;
ALTER TABLE log_chunks ADD COLUMN kinds TEXT;
ALTER TABLE log_chunks ADD COLUMN bytes BIGINT`,
    // SQLite keeps the compressed bytes in the TEXT column; Postgres needs the column to be BYTEA
    // (old rows keep their JSON text as its UTF-8 bytes, still codec 'json').
    postgres: `
ALTER TABLE log_chunks ALTER COLUMN lines TYPE BYTEA USING convert_to(lines, 'UTF8');
ALTER TABLE log_chunks ADD COLUMN codec TEXT NOT NULL DEFAULT 'json';
ALTER TABLE log_chunks ADD COLUMN min_ts BIGINT;
ALTER TABLE log_chunks ADD COLUMN max_ts BIGINT;
ALTER TABLE log_chunks ADD COLUMN kinds TEXT;
ALTER TABLE log_chunks ADD COLUMN bytes BIGINT`,
  },
  {
    id: 9,
    name: "offloaded log segments",
    // A run of a stream's oldest chunks moved to one object in S3 (src/logs/offload.ts): its seq and
    // time span, line count, object size and key (relative to KILN_LOG_OFFLOAD_URL). Written in the
    // transaction that deletes the chunks it holds.
    sql: `
CREATE TABLE log_segments (
  stream TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  first_ts BIGINT NOT NULL,
  last_ts BIGINT NOT NULL,
  lines BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  object_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (stream, first_seq)
)`,
  },
  {
    id: 10,
    name: "where each container's log was last stored",
    // Per app container and output stream, the engine time (ns, as text: it passes 2^53) and
    // position of the newest line stored, written with the chunk that holds it (sqlite-logs.ts),
    // so a Kiln restarted after a crash resumes each container's log just after it. This
    // migration's applied_at says since when marks are kept (a container with none since then
    // has had nothing stored).
    sql: `
CREATE TABLE log_sources (
  container TEXT NOT NULL,
  output TEXT NOT NULL,
  stream TEXT NOT NULL,
  ns TEXT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (container, output)
);
CREATE INDEX log_sources_stream ON log_sources (stream)`,
  },
  {
    id: 11,
    name: "several Kilns on one database: the cluster's id and the shared job queue",
    // Used only with Postgres (src/cluster/): the cluster's id (the `kiln.instance` label every Kiln
    // on the database gives what it creates), and jobs as leased rows (job-queue.ts), in the order
    // asked (`seq`). SQLite gets the same tables, unused: one Kiln keeps its queue in memory.
    sql: clusterTables("INTEGER"),
    postgres: clusterTables("BIGSERIAL"),
  },
  {
    id: 12,
    name: "pool members belong to a node",
    // A member's container binds slots under one host's pools directory, so only a Kiln on that
    // node may hand it out (takeReady filters by it). Rows made before have "" until the node that
    // made them adopts them (PoolRepo.adoptMembers). The index for takes replaces migration 2's:
    // a take asks for one node's ready members of a workload, oldest first, and a listing for one
    // workload (and node) reads its prefix.
    sql: `
ALTER TABLE pool_members ADD COLUMN node TEXT NOT NULL DEFAULT '';
DROP INDEX pool_members_ready;
CREATE INDEX pool_members_ready_on_node ON pool_members (workload_id, node, status, ready_at)`,
  },
  {
    id: 13,
    name: "each Kiln's API address and pools node",
    // Used only with Postgres (src/cluster/peers.ts): every Kiln says every few seconds where its API
    // answers and which pools node it is on, so a release or sync of another node's member is
    // forwarded to a live Kiln of that node. SQLite gets the table, unused.
    sql: `
CREATE TABLE kiln_peers (
  owner TEXT PRIMARY KEY,
  pools_node TEXT NOT NULL,
  api_url TEXT NOT NULL,
  seen_at BIGINT NOT NULL
);
CREATE INDEX kiln_peers_node ON kiln_peers (pools_node, seen_at)`,
  },
  {
    id: 14,
    name: "uploads every Kiln can read",
    // Used only with Postgres (src/adapters/store/postgres-uploads.ts): a tarball deploy received by
    // one Kiln is kept here too, in parts, so another Kiln can build it (a redeploy, a build taken
    // over). SQLite gets the tables, unused: one Kiln reads its own disk.
    sql: uploadTables("BLOB"),
    postgres: uploadTables("BYTEA"),
  },
  {
    id: 15,
    name: "each Kiln's request totals per app and interval",
    // Used only with Postgres (src/cluster/request-stats.ts): each Kiln's Caddy logs only the requests
    // it answered, so every Kiln keeps its 10 s totals here (the last hour) and an app's figures are
    // their sum, on whichever Kiln is asked. SQLite gets the table, unused.
    sql: `
CREATE TABLE kiln_request_stats (
  owner TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  count INTEGER NOT NULL,
  s2xx INTEGER NOT NULL,
  s3xx INTEGER NOT NULL,
  s4xx INTEGER NOT NULL,
  s5xx INTEGER NOT NULL,
  latency TEXT NOT NULL,
  PRIMARY KEY (owner, deployment_id, ts)
);
CREATE INDEX kiln_request_stats_app ON kiln_request_stats (deployment_id, ts)`,
  },
];

/** Migration 14's tables; only the parts' column type differs between the stores. */
function uploadTables(blobType: "BLOB" | "BYTEA"): string {
  return `
CREATE TABLE kiln_uploads (
  upload_id TEXT PRIMARY KEY,
  bytes BIGINT NOT NULL,
  parts INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE kiln_upload_parts (
  upload_id TEXT NOT NULL,
  part INTEGER NOT NULL,
  data ${blobType} NOT NULL,
  PRIMARY KEY (upload_id, part)
)`;
}

/** Migration 11's tables; `seq` numbers jobs in the order asked (Postgres fills it itself). */
function clusterTables(seqType: "INTEGER" | "BIGSERIAL"): string {
  return `
CREATE TABLE kiln_cluster (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE kiln_jobs (
  id TEXT PRIMARY KEY,
  seq ${seqType} NOT NULL,
  deployment_id TEXT NOT NULL,
  light BOOLEAN NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  owner TEXT NOT NULL,
  lease_until BIGINT NOT NULL,
  cancel BOOLEAN NOT NULL DEFAULT false,
  took_over INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kiln_jobs_deployment ON kiln_jobs (deployment_id, seq)`;
}

/** The migrations not yet applied, in id order. Throws if the list itself is malformed. */
export function pendingMigrations(all: readonly Migration[], appliedIds: ReadonlySet<number>): Migration[] {
  let previous = 0;
  for (const m of all) {
    if (!Number.isInteger(m.id) || m.id <= previous) {
      throw new Error(`migration ids must be increasing integers: ${m.id} ("${m.name}") follows ${previous}`);
    }
    previous = m.id;
  }
  return all.filter((m) => !appliedIds.has(m.id));
}

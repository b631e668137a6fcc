/**
 * The only reader of the environment. One schema, validated at boot; every variable is
 * documented here and in the README. `loadConfig` throws a KilnError naming the variable.
 * `loadCliEnv` is the client commands' share; `config.childEnv` is all that processes Kiln
 * spawns inherit (an allow-list: no KILN_* secret, no AWS_*).
 */
import { z } from "zod";
import { resolve } from "node:path";
import { badRequest } from "./core/errors.ts";
import { S3_BUCKET_RULE, isS3Bucket } from "./core/names.ts";
import { Secret } from "./core/secret.ts";
import { localApiUrl } from "./core/urls.ts";

const port = z.coerce.number().int().min(1).max(65535);

const schema = z.object({
  /** Where Kiln keeps its database, API token, sources and uploads. */
  KILN_DATA_DIR: z.string().min(1).default("./.kiln"),
  /**
   * postgres://user:password@host:port/database (or postgresql://): keep Kiln's state in Postgres
   * (src/adapters/store/postgres.ts). Unset: SQLite at $KILN_DATA_DIR/kiln.db. Never echoed.
   */
  KILN_DATABASE_URL: z
    .string()
    .refine(isPostgresUrl, "must be postgres://user:password@host:port/database (or postgresql://…); unset it to use SQLite in KILN_DATA_DIR")
    .optional(),
  /** Address the API and dashboard listen on. Loopback by default. */
  KILN_API_HOST: z.string().min(1).default("127.0.0.1"),
  KILN_API_PORT: port.default(4000),
  /**
   * Several Kilns: where the other Kilns reach this one's API (http(s)://host:port, no path), to
   * forward a tenant's release or sync to it. Unset: the API's own address (0.0.0.0 as 127.0.0.1).
   */
  KILN_ADVERTISE_URL: z
    .string()
    .refine((u) => /^https?:\/\/[^/?#]+\/?$/.test(u), "must be http(s)://host:port with no path")
    .optional(),
  /** Host name apps are served under: http://<app>.<host>:<port>/ */
  KILN_PUBLIC_HOST: z.string().min(1).default("localhost"),
  /** Port Caddy serves apps on. */
  KILN_PUBLIC_PORT: port.default(8080),
  /** Interface Caddy's app server binds (empty: all interfaces). */
  KILN_PUBLIC_LISTEN: z.string().default(""),
  /**
   * HTTPS for apps: `acme` (certificates from a public CA through Caddy, KILN_ACME_EMAIL), `internal`
   * (Caddy's own local CA: a LAN, tests), `off` (plain HTTP). Default: off while KILN_PUBLIC_HOST is
   * localhost or an IP address, acme otherwise. With TLS on, plain HTTP redirects to HTTPS.
   */
  KILN_TLS: z.enum(["acme", "internal", "off"]).optional(),
  /** Port Caddy serves HTTPS on when KILN_TLS is on. */
  KILN_HTTPS_PORT: port.default(443),
  /** Contact address for the ACME account (expiry notices). */
  KILN_ACME_EMAIL: z.string().email("KILN_ACME_EMAIL must be an email address").optional(),
  /** ACME directory URL; default Let's Encrypt's production directory (Caddy's default). */
  KILN_ACME_CA: z.string().url().optional(),
  /** Caddy's admin API. Kiln starts a Caddy here when none answers and `caddy` is installed. */
  KILN_CADDY_ADMIN: z.string().url().default("http://127.0.0.1:2019"),
  /**
   * Docker network every app container and pool member is created on. Kiln makes it a bridge with
   * inter-container traffic off (and recreates one an older Kiln made with it on, when nothing is attached).
   */
  KILN_DOCKER_NETWORK: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/).default("kiln"),
  /**
   * Set to 1 to let the API (KILN_API_HOST) or Caddy's admin API (KILN_CADDY_ADMIN) listen beyond
   * loopback. Refused by default: containers reach the host through their network's gateway, so
   * whatever listens on a non-loopback address is reachable from every app and tenant.
   */
  KILN_ALLOW_NON_LOOPBACK: z.enum(["0", "1"]).default("0"),
  /** Docker Engine API socket. */
  KILN_DOCKER_SOCKET: z.string().min(1).default("/var/run/docker.sock"),
  /** Bearer token for the API. Unset: generated at first start into $KILN_DATA_DIR/api-token. */
  KILN_API_TOKEN: z.string().min(16, "KILN_API_TOKEN must be at least 16 characters").optional(),
  /**
   * Key that secrets are encrypted with in the database: 32 bytes as base64 or 64 hex characters
   * (checked by adapters/crypto/secret-key.ts). Unset: generated at first start into $KILN_DATA_DIR/secret.key.
   */
  KILN_SECRET_KEY: z.string().min(1).optional(),
  /** Node image to build FROM when the engine has it; otherwise Kiln assembles one from the host. */
  KILN_NODE_IMAGE: z.string().default("node:20-bookworm-slim"),
  /** Default limits for an app container. */
  KILN_APP_MEMORY_MB: z.coerce.number().int().min(16).default(512),
  KILN_APP_CPUS: z.coerce.number().positive().max(64).default(1),
  KILN_APP_PIDS: z.coerce.number().int().min(16).default(256),
  /** How long an app has to accept connections after start. */
  KILN_READY_TIMEOUT_S: z.coerce.number().int().min(1).default(60),
  /** Builds that may run at once. */
  KILN_BUILD_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /**
   * Successful builds whose images each deployment keeps (its current build's, and any a container
   * uses, are kept besides); older images are garbage-collected.
   */
  KILN_KEEP_IMAGES: z.coerce.number().int().min(1).max(1000).default(5),
  KILN_KEEP_RELEASES: z.coerce.number().int().min(2).max(1000).default(20),
  /** Stored log lines older than this many days are removed, per app (src/logs/retention.ts). */
  KILN_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Most MiB of stored (compressed) log kept per app; the oldest lines go first. */
  KILN_LOG_RETENTION_MB: z.coerce.number().int().min(1).max(1_048_576).default(1024),
  /**
   * Log offload (src/logs/offload.ts): where cold log lines go, as s3://bucket/prefix. Unset: offload
   * is off and every line stays in the database. Offloaded lines are still replayed and searched.
   */
  KILN_LOG_OFFLOAD_URL: z.string().optional(),
  /** The S3-compatible server (e.g. http://127.0.0.1:9000 for MinIO); unset: AWS. */
  KILN_LOG_OFFLOAD_ENDPOINT: z.string().url("KILN_LOG_OFFLOAD_ENDPOINT must be a URL like https://s3.example.com").optional(),
  KILN_LOG_OFFLOAD_REGION: z.string().regex(/^[a-z0-9-]{1,40}$/, "a region like us-east-1").optional(),
  /** Both or neither; neither: the host's AWS credentials (~/.aws, instance role). Passed to rclone by env only. */
  KILN_LOG_OFFLOAD_ACCESS_KEY_ID: z.string().optional(),
  KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY: z.string().optional(),
  /** Log lines older than this many hours are offloaded (0: all but each stream's newest chunk). */
  KILN_LOG_OFFLOAD_AFTER_HOURS: z.coerce.number().min(0).max(87_600).default(24),
  /** Minutes between offload passes (one also runs at start). */
  KILN_LOG_OFFLOAD_INTERVAL_MIN: z.coerce.number().int().min(1).max(10_080).default(10),
  /** Upload cap for tarballs, in MiB (only POST /deployments/upload takes a body this big). */
  KILN_MAX_UPLOAD_MB: z.coerce.number().int().min(1).default(200),
  /** Body cap of every other API route (JSON), in KiB; a bigger body is refused with 413 as it streams. */
  KILN_MAX_JSON_KB: z.coerce.number().int().min(1).max(1024 * 1024).default(1024),
  /**
   * What the RUN steps of all builds on Docker's BuildKit may use together, so builds cannot starve
   * serving apps: memory in MiB and CPUs. 0: no limit. Set on the cgroup dockerd's BuildKit runs
   * RUN steps in (adapters/cgroups/build-cgroup.ts); a step over the memory cap fails the build.
   */
  KILN_BUILD_MEMORY_MB: z.coerce.number().int().refine((n) => n === 0 || n >= 64, "0 (no limit) or at least 64").default(2048),
  KILN_BUILD_CPUS: z.coerce.number().refine((n) => n === 0 || (n >= 0.01 && n <= 1024), "0 (no limit) or 0.01 to 1024").default(1),
  /** Folder of workload YAML files for tenant pools; changes are picked up live. */
  KILN_WORKLOADS_DIR: z.string().min(1).default("./workloads"),
  /**
   * Where the pools keep tenants' state and secrets and the members' slots (unset: KILN_DATA_DIR).
   * Kilns on one host that share a Postgres share this directory: they are then one pools node, and
   * any of them serves any claim of its members (see ARCHITECTURE.md, "Several Kilns").
   */
  KILN_POOLS_DIR: z.string().min(1).optional(),
  /** Pool members warmed at once, across all pools. */
  KILN_POOL_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /** How long a pool member has to become healthy. */
  KILN_POOL_READY_TIMEOUT_S: z.coerce.number().int().min(1).default(120),
  /** Size cap of each member's /tmp and /run tmpfs. */
  KILN_POOL_TMPFS_SIZE: z.string().regex(/^\d+[kmg]?$/i, "a size like 64m").default("64m"),
  /**
   * UDP port (on 127.0.0.1) of the resolver Caddy asks where a tenant's requests go. 0: any free
   * port (Caddy's config is loaded anew at every start).
   */
  KILN_TENANT_DNS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Set to 1 to skip starting Caddy (an external Caddy is managed elsewhere). */
  KILN_MANAGE_CADDY: z.enum(["0", "1"]).default("1"),
  /** BuildKit daemon for the Railpack builder (buildctl's own variable). Unset: Railpack is not used. */
  BUILDKIT_HOST: z.string().min(1).optional(),
  /**
   * host:port ([v6]:port) of a listener serving GET /metrics (Prometheus) without the token. Unset:
   * metrics only at /api/v1/metrics, with the token. Loopback only, unless KILN_ALLOW_NON_LOOPBACK=1.
   */
  KILN_METRICS_ADDR: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, "host:port, e.g. 127.0.0.1:9464").optional(),
  /**
   * What runs apps: `docker` (containers Kiln runs on this engine) or `swarm` (one Docker Swarm
   * service per app, replicas spread over the nodes, updated start-first by Swarm; this engine must
   * be a swarm manager: `docker swarm init`). See README "Kiln on Docker Swarm".
   */
  KILN_ENGINE: z.enum(["docker", "swarm"]).default("docker"),
  /**
   * With KILN_ENGINE=swarm: host:port of the registry every node pulls app images from. Unset: Kiln
   * runs Debian's `docker-registry` on 127.0.0.1:KILN_REGISTRY_PORT (enough for one node).
   */
  KILN_REGISTRY: z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, "host:port, e.g. 10.0.0.5:5000").optional(),
  KILN_REGISTRY_PORT: port.default(5055),
  /** With KILN_ENGINE=swarm: prefix of each app's overlay network (`<prefix>-<deployment id>`). */
  KILN_SWARM_NETWORK: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,30}$/).default("kiln-swarm"),
});

export type RawConfig = z.infer<typeof schema>;

export interface TlsConfig {
  mode: "acme" | "internal" | "off";
  httpsPort: number;
  acmeEmail?: string;
  acmeCa?: string;
}

/** localhost, *.localhost, or an IP address: no public CA issues for these. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(":");
}

/** KILN_ENGINE and, for swarm, where images go (a registry, or Kiln's own on loopback) and the apps' networks. */
export type EngineConfig = { kind: "docker" } | { kind: "swarm"; registry: string | null; registryPort: number; networkPrefix: string };

export interface Config {
  dataDir: string;
  api: { host: string; port: number };
  publicHost: string;
  publicPort: number;
  publicListen: string;
  /** HTTPS for apps: off, Caddy's internal CA, or ACME (on-demand, only for hosts Kiln serves). */
  tls: TlsConfig;
  caddyAdmin: string;
  manageCaddy: boolean;
  dockerNetwork: string;
  dockerSocket: string;
  apiToken: string | undefined;
  /** KILN_SECRET_KEY: the key secrets are sealed with; unset, $KILN_DATA_DIR/secret.key is used. Never passed to children. */
  secretKey?: string;
  /** KILN_DATABASE_URL: the Postgres database Kiln keeps its state in; null: SQLite in dataDir. */
  databaseUrl: Secret | null;
  /** KILN_ADVERTISE_URL: where other Kilns reach this one's API. */
  advertiseUrl: string;
  nodeImage: string;
  appLimits: { memoryBytes: number; nanoCpus: number; pids: number };
  readyTimeoutMs: number;
  buildConcurrency: number;
  keepImages: number;
  /** Releases kept per deployment (rollback targets); their images are kept too. */
  keepReleases: number;
  /** Log retention per stream: age (ms) and stored size (bytes). */
  logRetention: { maxAgeMs: number; maxBytes: number };
  /** Log offload to S3 (KILN_LOG_OFFLOAD_*); null: off. */
  logOffload: LogOffloadConfig | null;
  maxUploadBytes: number;
  maxJsonBytes: number;
  /** Bounds on builds' RUN steps together; null: no limit. */
  buildLimits: { memoryBytes: number | null; cpus: number | null };
  pools: { dir: string; workloadsDir: string; concurrency: number; readyTimeoutMs: number; tmpfsSize: string; dnsPort: number };
  /** The environment workload files may interpolate (`${S3_SECRET}`), read once here. */
  workloadEnv: Record<string, string>;
  /** BUILDKIT_HOST: the BuildKit daemon Railpack builds on, if any. */
  buildkitHost: string | undefined;
  /** KILN_METRICS_ADDR: where /metrics is served without the token (host without brackets); null: only on the API. */
  metricsAddr: { host: string; port: number } | null;
  /** What runs apps (KILN_ENGINE): containers on this engine, or Swarm services. */
  engine: EngineConfig;
  /** The whole environment of every process Kiln spawns, before the command's own variables (see childEnvOf). */
  childEnv: Record<string, string>;
}

/**
 * What a child process (git, rclone, railpack, buildctl, mount, caddy, the tenant resolver) gets
 * from Kiln's environment: only these, and only when set. Never Kiln's own KILN_* settings (the API
 * token among them) nor AWS_* (AWS_CA_BUNDLE breaks rclone's S3 backend; sinks carry their keys).
 */
const CHILD_ENV_KEYS = [
  // where programs are, whose home, which language and time zone, where temp files go
  "PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR",
  // the CA bundle a child needs to reach TLS servers from here (Go, OpenSSL, Node, git, curl)
  "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO", "CURL_CA_BUNDLE",
  // an outbound proxy, when this host has to use one
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
] as const;
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The base environment of every child process: the allow-listed variables that are set, and always a PATH. */
export function childEnvOf(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of CHILD_ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== "") out[key] = value;
  }
  out.PATH ??= DEFAULT_PATH;
  return out;
}

/** A postgres:// or postgresql:// URL naming a host (the value is never put in an error). */
function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(value)) return false;
  try {
    return new URL(value).hostname !== "";
  } catch {
    return false;
  }
}

/** Flags (`--port 4001`) override env. Only the serve flags listed here are accepted. */
const FLAG_TO_ENV: Record<string, keyof RawConfig> = {
  "--data-dir": "KILN_DATA_DIR",
  "--host": "KILN_API_HOST",
  "--port": "KILN_API_PORT",
  "--public-host": "KILN_PUBLIC_HOST",
  "--public-port": "KILN_PUBLIC_PORT",
  "--caddy-admin": "KILN_CADDY_ADMIN",
  "--workloads": "KILN_WORKLOADS_DIR",
};

export function parseServeFlags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    const key = FLAG_TO_ENV[flag];
    if (!key) throw badRequest(`unknown flag ${flag}`, `known flags: ${Object.keys(FLAG_TO_ENV).join(", ")}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw badRequest(`flag ${flag} needs a value`);
    out[key] = value;
  }
  return out;
}

export function loadConfig(env: Record<string, string | undefined> = process.env, flags: Record<string, string> = {}): Config {
  const merged: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) merged[key] = flags[key] ?? (env[key] === "" ? undefined : env[key]);
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(`invalid configuration: ${issue.path.join(".")}: ${issue.message}`, "see the Configuration section of the README");
  }
  const c = parsed.data;
  if (c.KILN_ALLOW_NON_LOOPBACK === "0") {
    refuseNonLoopback("KILN_API_HOST", c.KILN_API_HOST, "Kiln's API");
    refuseNonLoopback("KILN_CADDY_ADMIN", new URL(c.KILN_CADDY_ADMIN).hostname, "Caddy's admin API");
  }
  const metricsAddr = c.KILN_METRICS_ADDR ? metricsAddress(c.KILN_METRICS_ADDR, c.KILN_API_HOST, c.KILN_API_PORT, c.KILN_ALLOW_NON_LOOPBACK === "1") : null;
  return {
    dataDir: resolve(c.KILN_DATA_DIR),
    api: { host: c.KILN_API_HOST, port: c.KILN_API_PORT },
    publicHost: c.KILN_PUBLIC_HOST,
    publicPort: c.KILN_PUBLIC_PORT,
    publicListen: c.KILN_PUBLIC_LISTEN,
    tls: {
      mode: c.KILN_TLS ?? (isLocalHost(c.KILN_PUBLIC_HOST) ? "off" : "acme"),
      httpsPort: c.KILN_HTTPS_PORT,
      ...(c.KILN_ACME_EMAIL ? { acmeEmail: c.KILN_ACME_EMAIL } : {}),
      ...(c.KILN_ACME_CA ? { acmeCa: c.KILN_ACME_CA } : {}),
    },
    caddyAdmin: c.KILN_CADDY_ADMIN.replace(/\/$/, ""),
    manageCaddy: c.KILN_MANAGE_CADDY === "1",
    dockerNetwork: c.KILN_DOCKER_NETWORK,
    dockerSocket: c.KILN_DOCKER_SOCKET,
    apiToken: c.KILN_API_TOKEN,
    secretKey: c.KILN_SECRET_KEY,
    databaseUrl: c.KILN_DATABASE_URL ? new Secret(c.KILN_DATABASE_URL) : null,
    advertiseUrl: (c.KILN_ADVERTISE_URL ?? localApiUrl(c.KILN_API_HOST, c.KILN_API_PORT)).replace(/\/+$/, ""),
    nodeImage: c.KILN_NODE_IMAGE,
    appLimits: {
      memoryBytes: c.KILN_APP_MEMORY_MB * 1024 * 1024,
      nanoCpus: Math.round(c.KILN_APP_CPUS * 1e9),
      pids: c.KILN_APP_PIDS,
    },
    readyTimeoutMs: c.KILN_READY_TIMEOUT_S * 1000,
    buildConcurrency: c.KILN_BUILD_CONCURRENCY,
    keepImages: c.KILN_KEEP_IMAGES,
    keepReleases: c.KILN_KEEP_RELEASES,
    logRetention: { maxAgeMs: c.KILN_LOG_RETENTION_DAYS * 86_400_000, maxBytes: c.KILN_LOG_RETENTION_MB * 1024 * 1024 },
    logOffload: logOffloadOf(c),
    maxUploadBytes: c.KILN_MAX_UPLOAD_MB * 1024 * 1024,
    maxJsonBytes: c.KILN_MAX_JSON_KB * 1024,
    buildLimits: {
      memoryBytes: c.KILN_BUILD_MEMORY_MB === 0 ? null : c.KILN_BUILD_MEMORY_MB * 1024 * 1024,
      cpus: c.KILN_BUILD_CPUS === 0 ? null : c.KILN_BUILD_CPUS,
    },
    pools: {
      dir: resolve(c.KILN_POOLS_DIR ?? c.KILN_DATA_DIR),
      workloadsDir: resolve(c.KILN_WORKLOADS_DIR),
      concurrency: c.KILN_POOL_CONCURRENCY,
      readyTimeoutMs: c.KILN_POOL_READY_TIMEOUT_S * 1000,
      tmpfsSize: c.KILN_POOL_TMPFS_SIZE,
      dnsPort: c.KILN_TENANT_DNS_PORT,
    },
    // Kiln's own secrets are never a workload's to interpolate (a workload file could print them into a container).
    workloadEnv: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string" && !KILN_OWN_SECRETS.includes(e[0]))),
    buildkitHost: c.BUILDKIT_HOST,
    metricsAddr,
    engine:
      c.KILN_ENGINE === "swarm"
        ? { kind: "swarm", registry: c.KILN_REGISTRY ?? null, registryPort: c.KILN_REGISTRY_PORT, networkPrefix: c.KILN_SWARM_NETWORK }
        : { kind: "docker" },
    childEnv: childEnvOf(env),
  };
}

/** Variables that are Kiln's own secrets: kept out of what workload files may interpolate. */
export const KILN_OWN_SECRETS: readonly string[] = ["KILN_API_TOKEN", "KILN_SECRET_KEY", "KILN_DATABASE_URL", "KILN_LOG_OFFLOAD_ACCESS_KEY_ID", "KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY"];

export interface LogOffloadConfig {
  target: { bucket: string; prefix: string; endpoint?: string; region?: string; accessKeyId?: Secret; secretAccessKey?: Secret };
  afterMs: number;
  intervalMs: number;
}

const OFFLOAD_HINT = "e.g. KILN_LOG_OFFLOAD_URL=s3://kiln-logs/prod (see the README's Log offload)";

/** KILN_LOG_OFFLOAD_*: null when the URL is unset (and then nothing else of it may be set). */
function logOffloadOf(c: RawConfig): LogOffloadConfig | null {
  const url = c.KILN_LOG_OFFLOAD_URL;
  const bad = (msg: string) => badRequest(`invalid configuration: ${msg}`, OFFLOAD_HINT);
  if (!url) {
    const stray = (["KILN_LOG_OFFLOAD_ENDPOINT", "KILN_LOG_OFFLOAD_REGION", "KILN_LOG_OFFLOAD_ACCESS_KEY_ID", "KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY"] as const).find((k) => c[k] !== undefined);
    if (stray) throw bad(`${stray} is set but KILN_LOG_OFFLOAD_URL is not, so logs would not be offloaded`);
    return null;
  }
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw bad(`KILN_LOG_OFFLOAD_URL: ${JSON.stringify(url.slice(0, 80))} is not s3://bucket or s3://bucket/prefix`);
  const bucket = m[1]!;
  if (!isS3Bucket(bucket)) throw bad(`KILN_LOG_OFFLOAD_URL: bucket ${JSON.stringify(bucket.slice(0, 80))} is not a valid bucket name (${S3_BUCKET_RULE})`);
  const parts = (m[2] ?? "").split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === ".." || !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw bad(`KILN_LOG_OFFLOAD_URL: prefix ${JSON.stringify((m[2] ?? "").slice(0, 80))} may hold only letters, digits, ".", "_", "-" and "/" (no "..")`);
  }
  const id = c.KILN_LOG_OFFLOAD_ACCESS_KEY_ID;
  const secret = c.KILN_LOG_OFFLOAD_SECRET_ACCESS_KEY;
  if ((id === undefined) !== (secret === undefined)) {
    throw bad(`KILN_LOG_OFFLOAD_${id === undefined ? "ACCESS_KEY_ID" : "SECRET_ACCESS_KEY"} is missing: give both keys, or neither to use the host's AWS credentials`);
  }
  return {
    target: {
      bucket,
      prefix: parts.join("/"),
      ...(c.KILN_LOG_OFFLOAD_ENDPOINT ? { endpoint: c.KILN_LOG_OFFLOAD_ENDPOINT.replace(/\/+$/, "") } : {}),
      ...(c.KILN_LOG_OFFLOAD_REGION ? { region: c.KILN_LOG_OFFLOAD_REGION } : {}),
      ...(id !== undefined && secret !== undefined ? { accessKeyId: new Secret(id), secretAccessKey: new Secret(secret) } : {}),
    },
    afterMs: Math.round(c.KILN_LOG_OFFLOAD_AFTER_HOURS * 3_600_000),
    intervalMs: c.KILN_LOG_OFFLOAD_INTERVAL_MIN * 60_000,
  };
}

/** KILN_METRICS_ADDR, already shaped host:port: a real port, not the API's own, loopback unless allowed. */
function metricsAddress(value: string, apiHost: string, apiPort: number, allowNonLoopback: boolean): { host: string; port: number } {
  const at = value.lastIndexOf(":");
  const host = value.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  const port = Number(value.slice(at + 1));
  if (!(port >= 1 && port <= 65535)) throw badRequest(`invalid configuration: KILN_METRICS_ADDR: port ${value.slice(at + 1)} is not 1 to 65535`, "e.g. KILN_METRICS_ADDR=127.0.0.1:9464");
  if (port === apiPort && host === apiHost) throw badRequest(`invalid configuration: KILN_METRICS_ADDR: ${value} is the API's own address`, "give metrics a port of their own, e.g. 127.0.0.1:9464");
  if (!allowNonLoopback) refuseNonLoopback("KILN_METRICS_ADDR", host, "the token-free metrics listener");
  return { host, port };
}

/** A control API bound beyond loopback is reachable from containers (through their bridge gateway): refused unless allowed. */
function refuseNonLoopback(variable: string, host: string, what: string): void {
  if (host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return;
  throw badRequest(
    `invalid configuration: ${variable}: ${host} is not a loopback address, and ${what} there is reachable from every container through its network gateway`,
    `keep ${variable} on 127.0.0.1 (put a TLS proxy in front for remote use), or set KILN_ALLOW_NON_LOOPBACK=1 and firewall Docker's bridges from the host yourself`,
  );
}

/**
 * What the `kiln` client commands read from the environment (src/cli/context.ts decides the order:
 * flags, then these, then the local Kiln's data dir). Empty counts as unset, except for NO_COLOR.
 */
export interface CliEnv {
  /** KILN_URL: the Kiln server to talk to. */
  url: string | undefined;
  /** KILN_TOKEN: its API token. */
  token: string | undefined;
  /** KILN_DATA_DIR (default ./.kiln): the local Kiln's data dir, for its api-token file. */
  dataDir: string;
  /** KILN_API_HOST / KILN_API_PORT: the local Kiln's API address (default 127.0.0.1:4000). */
  apiHost: string;
  apiPort: string;
  /** NO_COLOR present, even empty (https://no-color.org): no colour even on a terminal. */
  noColor: boolean;
}

export function loadCliEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  const get = (key: string) => (env[key] === "" ? undefined : env[key]);
  return {
    url: get("KILN_URL"),
    token: get("KILN_TOKEN"),
    dataDir: resolve(get("KILN_DATA_DIR") ?? "./.kiln"),
    apiHost: get("KILN_API_HOST") ?? "127.0.0.1",
    apiPort: get("KILN_API_PORT") ?? "4000",
    noColor: env.NO_COLOR !== undefined,
  };
}

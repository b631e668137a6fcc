/**
 * A validated workload file → the WorkloadSpec the rest of Kiln uses: defaults filled in, and the
 * checks that look at more than one field (pool.min_size ≤ pool.max_size, …).
 */
import type { HealthcheckSpec, SyncSpec, WorkloadSpec } from "../../core/workload.ts";
import type { ProblemList } from "./errors.ts";
import { TENANT_ID_REF } from "./interpolate.ts";
import type { WorkloadFile } from "./schema.ts";

/** Defaults for what a file leaves out (documented in docs/workloads.md). */
export const WORKLOAD_DEFAULTS = {
  /** Kiln hardens by default: the root filesystem is read-only; write to the state volume, /tmp or /run. */
  readOnly: true,
  healthcheck: { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 },
  pool: { minSize: 1, maxSize: 10, idleTimeoutMs: 600_000 },
  sync: {
    prefix: `tenants/${TENANT_ID_REF}/`,
    mapping: { path: "/", direction: "bidirectional", mode: "sync" },
    policy: { onClaim: true, onRelease: true, manual: true, periodicMs: null },
    /** A claim waits for its restore: long enough for a large state, short enough to answer. */
    timeoutMs: 300_000,
  },
} as const;

type Raw = WorkloadFile;

function healthcheck(raw: Raw, problems: ProblemList): HealthcheckSpec | null {
  const h = raw.healthcheck;
  if (!h || h.disable) return null;
  if (!h.test) {
    problems.add("healthcheck.test", "is required (or set disable: true)", 'e.g. test: ["CMD", "curl", "-f", "http://127.0.0.1:8080/"]');
    return null;
  }
  if (h.test[0] === "NONE") return null;
  const d = WORKLOAD_DEFAULTS.healthcheck;
  return {
    test: h.test,
    intervalMs: h.interval ?? d.intervalMs,
    timeoutMs: h.timeout ?? d.timeoutMs,
    retries: h.retries ?? d.retries,
    startPeriodMs: h.start_period ?? d.startPeriodMs,
  };
}

function volumes(raw: Raw, problems: ProblemList): Pick<WorkloadSpec, "state" | "secrets"> {
  const state = raw.volumes?.state ? { target: raw.volumes.state.target } : null;
  const s = raw.volumes?.secrets;
  if (s?.read_only === false) {
    problems.add("volumes.secrets.read_only", "secrets are always mounted read-only: remove read_only or set it to true");
  }
  if (state && s) {
    const inside = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
    if (inside(s.target, state.target) || inside(state.target, s.target)) {
      problems.add("volumes.secrets.target", `must be apart from volumes.state.target (${state.target}): neither may be inside the other`);
    }
  }
  return { state, secrets: s ? { target: s.target, readOnly: true } : null };
}

function port(raw: Raw, problems: ProblemList): number | null {
  const first = raw.ports?.[0];
  if (!first) return null;
  if (first.protocol !== "tcp") {
    problems.add("ports[0].protocol", "must be tcp: a tenant's endpoint is routed to the first port over TCP");
  }
  if (raw.network_mode === "none") {
    problems.add("network_mode", 'is "none", so ports cannot be reached: remove network_mode or ports');
  }
  return first.container;
}

function pool(raw: Raw, problems: ProblemList): WorkloadSpec["pool"] {
  const d = WORKLOAD_DEFAULTS.pool;
  const minSize = raw.pool?.min_size ?? d.minSize;
  const maxSize = raw.pool?.max_size ?? d.maxSize;
  if (minSize > maxSize) {
    if (raw.pool?.max_size !== undefined) problems.add("pool.max_size", `must be ≥ pool.min_size (${minSize})`);
    else problems.add("pool.min_size", `must be ≤ pool.max_size (${maxSize}, the default): set pool.max_size too`);
  }
  return { minSize, maxSize, idleTimeoutMs: raw.pool?.idle_timeout ?? d.idleTimeoutMs };
}

function sync(raw: Raw, state: WorkloadSpec["state"], problems: ProblemList): SyncSpec | null {
  const s = raw.sync;
  if (!s) return null;
  if (!state) problems.add("sync", "needs volumes.state: sync copies the state volume", "add volumes: { state: { target: /state } }");
  const sink = s.sink;
  if (!sink.access_key_id !== !sink.secret_access_key) {
    const missing = sink.access_key_id ? "secret_access_key" : "access_key_id";
    problems.add(`sync.sink.${missing}`, "is required with the other key: set both access_key_id and secret_access_key, or neither");
  }
  const d = WORKLOAD_DEFAULTS.sync;
  const mappings = (s.mappings ?? [d.mapping]).map((m) => ({
    path: m.path,
    direction: m.direction ?? d.mapping.direction,
    mode: m.mode ?? d.mapping.mode,
  }));
  if (s.mappings?.length === 0) problems.add("sync.mappings", "must not be empty (leave it out to sync the whole state volume)");
  const seen = new Map<string, number>();
  mappings.forEach((m, i) => {
    const before = seen.get(m.path);
    if (before !== undefined) problems.add(`sync.mappings[${i}].path`, `repeats sync.mappings[${before}].path (${m.path})`);
    else seen.set(m.path, i);
  });
  const p = s.policy;
  return {
    sink: {
      type: sink.type,
      bucket: sink.bucket,
      ...(sink.region !== undefined && { region: sink.region }),
      ...(sink.endpoint !== undefined && { endpoint: sink.endpoint }),
      ...(sink.access_key_id !== undefined && { accessKeyId: sink.access_key_id }),
      ...(sink.secret_access_key !== undefined && { secretAccessKey: sink.secret_access_key }),
      prefix: sink.prefix ?? d.prefix,
      rcloneFlags: sink.rclone_flags ?? [],
    },
    mappings,
    policy: {
      onClaim: p?.on_claim ?? d.policy.onClaim,
      onRelease: p?.on_release ?? d.policy.onRelease,
      manual: p?.manual ?? d.policy.manual,
      periodicMs: p?.periodic ?? d.policy.periodicMs,
    },
    timeoutMs: s.timeout ?? d.timeoutMs,
  };
}

/** Builds the spec; cross-field problems go to `problems` (the spec is only usable if none). */
export function toWorkload(raw: Raw, file: string, hash: string, problems: ProblemList): WorkloadSpec {
  const { state, secrets } = volumes(raw, problems);
  const limits = raw.deploy?.resources?.limits;
  return {
    id: raw.id,
    name: raw.name ?? raw.id,
    image: raw.image,
    state,
    secrets,
    environment: raw.environment ?? {},
    command: raw.command ?? null,
    healthcheck: healthcheck(raw, problems),
    limits: { nanoCpus: limits?.cpus ?? null, memoryBytes: limits?.memory ?? null },
    readOnly: raw.read_only ?? WORKLOAD_DEFAULTS.readOnly,
    user: raw.user ?? null,
    networkMode: raw.network_mode ?? null,
    port: port(raw, problems),
    pool: pool(raw, problems),
    sync: sync(raw, state, problems),
    file,
    hash,
  };
}

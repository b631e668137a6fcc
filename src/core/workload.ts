/**
 * A workload: what a pool's members are made of. Loaded from YAML (src/pools/workloads/), validated,
 * then only this shape is used. Durations are milliseconds, sizes bytes.
 */
import type { Secret } from "./secret.ts";

export interface HealthcheckSpec {
  /** Docker form: ["CMD", "curl", "-f", "…"] or ["CMD-SHELL", "…"]. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export type SyncDirection = "upload" | "download" | "bidirectional";
export type SyncMode = "sync" | "copy";

export interface SyncMapping {
  /** Relative to the state directory; "/" or "" is the whole state dir. Never escapes it. */
  path: string;
  direction: SyncDirection;
  mode: SyncMode;
}

export interface SyncSink {
  type: "s3";
  bucket: string;
  region?: string;
  endpoint?: string;
  accessKeyId?: Secret;
  secretAccessKey?: Secret;
  /** With ${tenantId} in it, e.g. "tenants/${tenantId}/". */
  prefix: string;
  rcloneFlags: string[];
}

export interface SyncSpec {
  sink: SyncSink;
  mappings: SyncMapping[];
  policy: { onClaim: boolean; onRelease: boolean; manual: boolean; periodicMs: number | null };
  /** Longest one sync may run (the restore on claim, the upload on release, …) before it is stopped. */
  timeoutMs: number;
}

export interface WorkloadSpec {
  /** DNS-label id, used in API calls and paths. */
  id: string;
  name: string;
  /** An image ref, or `deployment:<name>` for the image of a Kiln deployment's current build. */
  image: string;
  state: { target: string } | null;
  secrets: { target: string; readOnly: boolean } | null;
  environment: Record<string, string>;
  command: string[] | null;
  healthcheck: HealthcheckSpec | null;
  limits: { nanoCpus: number | null; memoryBytes: number | null };
  readOnly: boolean;
  /** Numeric "uid" or "uid:gid". */
  user: string | null;
  networkMode: string | null;
  /** Container port a tenant's endpoint routes to. */
  port: number | null;
  pool: { minSize: number; maxSize: number; idleTimeoutMs: number };
  sync: SyncSpec | null;
  /** The YAML file it came from, and a hash of its content (a changed hash drains old members). */
  file: string;
  hash: string;
}

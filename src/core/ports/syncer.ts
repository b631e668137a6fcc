/**
 * State syncers: move a tenant's state directory to and from its sink (S3). Implemented by
 * src/adapters/rclone/rclone-syncer.ts.
 */
import type { LogSink } from "../logs.ts";
import type { SyncSpec } from "../workload.ts";

export interface SyncRequest {
  spec: SyncSpec;
  /** Replaces ${tenantId} in the sink's prefix; keeps tenants apart in the bucket. */
  tenantId: string;
  /** Absolute path of the tenant's state directory on this host. */
  stateDir: string;
  /** Upload runs the "upload" and "bidirectional" mappings, download the "download" and "bidirectional" ones. */
  direction: "upload" | "download";
  signal?: AbortSignal;
  log: LogSink;
}

export interface SyncResult {
  ok: true;
  /** How many mappings transferred (mappings for the other direction, or with nothing stored, are skipped). */
  mappings: number;
  durationMs: number;
}

/** Which tenant's stored state to look for. */
export interface RemoteStateQuery {
  spec: SyncSpec;
  tenantId: string;
  signal?: AbortSignal;
  log: LogSink;
}

export interface StateSyncer {
  /** Throws a StepError (message: what failed and the tool's last lines, redacted) on any failure. */
  run(req: SyncRequest): Promise<SyncResult>;
  /**
   * Whether the sink holds anything under the tenant's prefix (one short listing, not a walk);
   * false when the bucket does not exist either. Throws like `run` when the sink cannot answer.
   */
  hasState(q: RemoteStateQuery): Promise<boolean>;
}

/**
 * Log streams. Every log line belongs to one stream, and each stream has its own dense seq.
 * A stream is named by a key made here and nowhere else:
 *
 *   deploymentStream(d.id)          // a deployment's build, runtime and system lines
 *   tenantStream("echo", "acme")    // one tenant's use of one workload: claims, releases, sync progress
 *
 * A deployment's key is its id (so lines stored before streams had names keep theirs); a tenant's
 * key carries a prefix no deployment id can have (ids are lowercase alphanumerics).
 */
import type { StreamKey } from "../core/logs.ts";

export type { StreamKey };

export function deploymentStream(deploymentId: string): StreamKey {
  return deploymentId;
}

export function tenantStream(workloadId: string, tenantId: string): StreamKey {
  return `tenant:${workloadId}:${tenantId}`;
}

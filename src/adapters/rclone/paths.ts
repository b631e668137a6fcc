/**
 * Where a sync mapping lives on both sides. Pure.
 *
 *   local:  <stateDir>/<mapping path>
 *   remote: kilns3:<bucket>/<prefix with ${tenantId} expanded>/<mapping path>
 *
 * The remote "kilns3" exists only in rclone's environment (see commands.ts). Nothing here
 * may climb out of the state directory or out of the tenant's prefix.
 */
import { resolve } from "node:path";
import { StepError } from "../../core/errors.ts";
import { S3_BUCKET_RULE, isS3Bucket } from "../../core/names.ts";
import type { SyncSink } from "../../core/workload.ts";

export const REMOTE_NAME = "kilns3";

const TENANT_PLACEHOLDER = "${tenantId}";
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Split a relative path into segments, refusing anything that could climb out ("..") or is odd. */
function segments(path: string, what: string): string[] {
  if (CONTROL.test(path) || path.includes("\\")) {
    throw new StepError(`${what} ${JSON.stringify(path.slice(0, 80))} has a control character or a backslash`);
  }
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new StepError(`${what} ${JSON.stringify(path.slice(0, 80))} contains "..", which could leave its root`);
  }
  return parts;
}

/** A tenant id as it appears in an object key: one plain path segment. */
export function checkTenantId(tenantId: string): string {
  if (tenantId === "" || tenantId.includes("/") || tenantId.includes("..") || tenantId.includes("\\") || CONTROL.test(tenantId)) {
    throw new StepError(`tenant id ${JSON.stringify(tenantId.slice(0, 80))} cannot be used in a sync prefix`, "tenant ids are single path segments without '/' or '..'");
  }
  return tenantId;
}

/** "tenants/${tenantId}/" with tenant "a" → "tenants/a" (no leading or trailing slash). */
export function expandPrefix(prefix: string, tenantId: string): string {
  checkTenantId(tenantId);
  if (!prefix.includes(TENANT_PLACEHOLDER)) {
    throw new StepError(
      `sync prefix ${JSON.stringify(prefix.slice(0, 80))} does not contain \${tenantId}, so all tenants would share one state`,
      'use a prefix like "tenants/${tenantId}/"',
    );
  }
  return segments(prefix.split(TENANT_PLACEHOLDER).join(tenantId), "sync prefix").join("/");
}

/** A mapping's path relative to the state dir: "" or "/" is the whole dir; never climbs out. */
export function mappingRelPath(path: string): string {
  return segments(path, "sync mapping path").join("/");
}

export function checkBucket(bucket: string): string {
  if (!isS3Bucket(bucket)) {
    throw new StepError(`sync bucket name ${JSON.stringify(bucket.slice(0, 80))} is not a valid bucket name`, `use ${S3_BUCKET_RULE}`);
  }
  return bucket;
}

/** rclone's name for the bucket itself, e.g. "kilns3:my-bucket". */
export function bucketRemote(sink: SyncSink): string {
  return `${REMOTE_NAME}:${checkBucket(sink.bucket)}`;
}

export function remotePath(sink: SyncSink, tenantId: string, rel: string): string {
  const key = [expandPrefix(sink.prefix, tenantId), rel].filter((s) => s !== "").join("/");
  return `${bucketRemote(sink)}/${key}`;
}

/** The absolute local path of a mapping; the state dir itself for "". */
export function localPath(stateDir: string, rel: string): string {
  const root = resolve(stateDir);
  return rel === "" ? root : `${root}/${rel}`;
}

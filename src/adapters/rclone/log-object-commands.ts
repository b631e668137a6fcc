/**
 * The rclone commands of log offload, as data (argv + env). Pure.
 *
 *   rclone mkdir      kilns3:<bucket>                                   (once, before the first upload)
 *   rclone copyto     <temp file> kilns3:<bucket>/<prefix>/<key> --s3-no-check-bucket   (upload)
 *   rclone copyto     kilns3:<bucket>/<prefix>/<key> <temp file>        (download)
 *   rclone delete     kilns3:<bucket>/<prefix>/<key>                    (exit 0 when already gone, unlike deletefile)
 *   rclone purge      kilns3:<bucket>/<prefix>/<dir>                    (a deleted stream's objects)
 *
 * The remote is defined only by environment, exactly as for state sync (commands.ts rcloneEnv:
 * RCLONE_CONFIG=/dev/null, keys as Secret env values, AWS_CA_BUNDLE removed); no key is in argv.
 * Segment bytes go through a temp file: the exec runner gives a child no stdin and reads its
 * stdout as text lines. A download of a missing object exits 0 without writing the file: the
 * caller checks the file is there.
 */
import { StepError } from "../../core/errors.ts";
import type { Secret } from "../../core/secret.ts";
import { checkBucket, REMOTE_NAME } from "./paths.ts";
import { COMMON_FLAGS, rcloneEnv } from "./commands.ts";
import type { Command } from "../exec/run.ts";

/** KILN_LOG_OFFLOAD_*: where segments go (config.ts). */
export interface OffloadTarget {
  bucket: string;
  /** Key prefix without leading or trailing slash; "" for the bucket's root. */
  prefix: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: Secret;
  secretAccessKey?: Secret;
}

export interface LogObjectSetup {
  target: OffloadTarget;
  bin?: string;
  inheritedEnvKeys?: readonly string[];
}

const SAFE_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** "s3://bucket/prefix": for messages. */
export function targetUrl(t: OffloadTarget): string {
  return `s3://${t.bucket}${t.prefix ? `/${t.prefix}` : ""}`;
}

/** rclone's name for an object (or key prefix) under the target. Keys are plain segments without "..". */
export function objectRemote(t: OffloadTarget, key: string): string {
  if (!SAFE_KEY.test(key) || key.split("/").some((p) => p === "." || p === "..")) {
    throw new StepError(`log object key ${JSON.stringify(key.slice(0, 80))} is not a plain relative key`);
  }
  return `${REMOTE_NAME}:${checkBucket(t.bucket)}/${t.prefix ? `${t.prefix}/` : ""}${key}`;
}

function command(s: LogObjectSetup, args: string[]): Command {
  const env = rcloneEnv({
    sink: { type: "s3", bucket: s.target.bucket, prefix: "", endpoint: s.target.endpoint, region: s.target.region, accessKeyId: s.target.accessKeyId, secretAccessKey: s.target.secretAccessKey, rcloneFlags: [] },
    inheritedEnvKeys: s.inheritedEnvKeys,
  });
  return { argv: [s.bin ?? "rclone", ...args, ...COMMON_FLAGS], ...env };
}

export function ensureBucketCommand(s: LogObjectSetup): Command {
  return command(s, ["mkdir", `${REMOTE_NAME}:${checkBucket(s.target.bucket)}`]);
}

export function uploadCommand(s: LogObjectSetup, localFile: string, key: string): Command {
  return command(s, ["copyto", localFile, objectRemote(s.target, key), "--s3-no-check-bucket"]);
}

export function downloadCommand(s: LogObjectSetup, key: string, localFile: string): Command {
  return command(s, ["copyto", objectRemote(s.target, key), localFile]);
}

export function deleteCommand(s: LogObjectSetup, key: string): Command {
  return command(s, ["delete", objectRemote(s.target, key)]);
}

export function purgeCommand(s: LogObjectSetup, dir: string): Command {
  return command(s, ["purge", objectRemote(s.target, dir)]);
}

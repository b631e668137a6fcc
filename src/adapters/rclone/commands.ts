/**
 * The rclone commands of a state sync, as data (argv + env). Pure.
 *
 *   rclone mkdir  kilns3:<bucket>                                  (before the first upload)
 *   rclone lsf -R --fast-list kilns3:<bucket>/<prefix>              (claim: anything stored for the tenant?)
 *   rclone lsjson --stat kilns3:<bucket>/<prefix>/<path>            (download: file or dir?)
 *   rclone sync|copy   <src dir>  <dst dir>  --stats 1s --stats-one-line …   (mode of the mapping)
 *   rclone copyto      <src file> <dst file> …                      (a mapping that is one file)
 *
 * The remote is configured only through the environment (RCLONE_CONFIG_KILNS3_*, see
 * https://rclone.org/docs/#config-file → "Environment variables"), with RCLONE_CONFIG=/dev/null
 * so no user config file is read. Keys travel as Secret env values, never in argv or a file.
 * rclone starts from the syncer's base environment (config.childEnv), which holds no AWS_*;
 * AWS_CA_BUNDLE is removed here too: rclone's S3 backend fails when it is set in this environment.
 */
import { StepError } from "../../core/errors.ts";
import type { Secret } from "../../core/secret.ts";
import type { SyncDirection, SyncMapping, SyncMode, SyncSink } from "../../core/workload.ts";
import type { Command } from "../exec/run.ts";
import { REMOTE_NAME, bucketRemote } from "./paths.ts";

/** rclone's exit codes for "directory not found" and "file not found". */
export const EXIT_DIR_NOT_FOUND = 3;
export const EXIT_FILE_NOT_FOUND = 4;

/**
 * Every command: plain lines (no date/time prefix: the log sink stamps lines itself), and
 * bounded retries, so an unreachable sink fails in seconds rather than minutes (rclone's
 * defaults, 3 × 10 retries with back-off, took over two minutes against a refused port).
 * The spec's rclone_flags come after these and override them.
 */
export const COMMON_FLAGS = ["--log-format", "", "--retries", "2", "--low-level-retries", "3", "--contimeout", "10s", "--timeout", "2m"];
/** One progress line a second on stderr, and a final one; no per-file lines. */
const PROGRESS_FLAGS = ["--stats", "1s", "--stats-one-line", "--stats-log-level", "NOTICE"];

export interface RcloneSetup {
  sink: SyncSink;
  bin?: string;
  /** Names of the variables in the base environment rclone starts from: its RCLONE_* are removed, so they cannot change what runs. */
  inheritedEnvKeys?: readonly string[];
}

export type PathKind = "file" | "dir" | "missing";
export type TransferVerb = "sync" | "copy" | "copyto";

export type MappingPlan =
  | { action: "skip"; reason: string }
  | { action: "transfer"; verb: TransferVerb; src: string; dst: string };

/** Whether a mapping takes part in a sync run in this direction. */
export function runsIn(mapping: SyncMapping, direction: "upload" | "download"): boolean {
  const allowed: SyncDirection = mapping.direction;
  return allowed === "bidirectional" || allowed === direction;
}

/** `sync` mirrors deletions, `copy` only adds and updates. */
function dirVerb(mode: SyncMode): TransferVerb {
  return mode === "sync" ? "sync" : "copy";
}

export function planUpload(input: { mode: SyncMode; local: string; remote: string; localKind: PathKind }): MappingPlan {
  const { mode, local, remote, localKind } = input;
  if (localKind === "missing") return { action: "skip", reason: `nothing at ${local} to upload` };
  if (localKind === "file") return { action: "transfer", verb: "copyto", src: local, dst: remote };
  return { action: "transfer", verb: dirVerb(mode), src: local, dst: remote };
}

export function planDownload(input: {
  mode: SyncMode;
  local: string;
  remote: string;
  localKind: PathKind;
  remoteKind: PathKind;
}): MappingPlan {
  const { mode, local, remote, localKind, remoteKind } = input;
  if (remoteKind === "missing") return { action: "skip", reason: `nothing stored at ${remote} yet` };
  if (remoteKind === "file") return { action: "transfer", verb: "copyto", src: remote, dst: local };
  // S3 has no directories: a key that is not stored reads as an empty directory. A local file
  // with no stored counterpart is left alone rather than replaced by a directory.
  if (localKind === "file") return { action: "skip", reason: `no file stored at ${remote} yet` };
  return { action: "transfer", verb: dirVerb(mode), src: remote, dst: local };
}

/** The environment that defines the remote "kilns3" for one sink. */
export function rcloneEnv(setup: RcloneSetup): Pick<Command, "env" | "unsetEnv"> {
  const { sink } = setup;
  const key = (option: string) => `RCLONE_CONFIG_${REMOTE_NAME.toUpperCase()}_${option}`;
  const env: Record<string, string | Secret> = {
    RCLONE_CONFIG: "/dev/null",
    [key("TYPE")]: "s3",
    [key("PROVIDER")]: sink.endpoint ? "Other" : "AWS",
  };
  if (sink.endpoint) {
    env[key("ENDPOINT")] = sink.endpoint;
    env[key("FORCE_PATH_STYLE")] = "true";
  }
  if (sink.region) env[key("REGION")] = sink.region;
  if (sink.accessKeyId && sink.secretAccessKey) {
    env[key("ACCESS_KEY_ID")] = sink.accessKeyId;
    env[key("SECRET_ACCESS_KEY")] = sink.secretAccessKey;
  } else if (sink.accessKeyId || sink.secretAccessKey) {
    throw new StepError("the sync sink has only one of accessKeyId and secretAccessKey", "give both, or neither to use the host's AWS credentials");
  } else {
    // No keys in the spec: ~/.aws/credentials or the instance's role (Kiln passes no AWS_* to children;
    // a workload file can still interpolate them: access_key_id: ${AWS_ACCESS_KEY_ID}).
    env[key("ENV_AUTH")] = "true";
  }
  const inherited = (setup.inheritedEnvKeys ?? []).filter((k) => k.startsWith("RCLONE_"));
  return { env, unsetEnv: ["AWS_CA_BUNDLE", ...inherited] };
}

function command(setup: RcloneSetup, args: string[]): Command {
  return {
    argv: [setup.bin ?? "rclone", ...args, ...COMMON_FLAGS, ...setup.sink.rcloneFlags],
    ...rcloneEnv(setup),
  };
}

/** Create the bucket; succeeds when it exists already. */
export function mkdirCommand(setup: RcloneSetup): Command {
  return command(setup, ["mkdir", bucketRemote(setup.sink)]);
}

/** Prints one JSON object (IsDir) for a remote path; exits 3 when the bucket does not exist. */
export function probeCommand(setup: RcloneSetup, remote: string): Command {
  return command(setup, ["lsjson", "--stat", remote]);
}

/**
 * Lists every key under the tenant's prefix, one name a line; exits 3 when the bucket does not
 * exist. --fast-list asks for plain key pages (ListObjectsV2 without a delimiter: some S3-compatible
 * servers, s3rver among them, leave out common prefixes of deeper keys, so a delimited listing can
 * miss state). rclone prints each page as it arrives, so the caller stops it at the first name:
 * one request, whatever the tenant stores.
 */
export function tenantListCommand(setup: RcloneSetup, tenantRemote: string): Command {
  return command(setup, ["lsf", "-R", "--fast-list", tenantRemote]);
}

/** What tenantListCommand printed: any name means the tenant has stored state. */
export function parseTenantList(stdout: string): boolean {
  return stdout.split("\n").some((line) => line.trim() !== "");
}

/** What probeCommand printed: a stored file, or a directory (possibly empty: S3 has no real dirs). */
export function parseProbe(stdout: string): "file" | "dir" {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new StepError(`could not read rclone's answer about a stored path: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (typeof parsed !== "object" || parsed === null || typeof (parsed as { IsDir?: unknown }).IsDir !== "boolean") {
    throw new StepError(`unexpected answer from rclone lsjson: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return (parsed as { IsDir: boolean }).IsDir ? "dir" : "file";
}

export interface TransferOptions {
  /** The bucket is known to exist: skip rclone's own check/creation (fewer requests, fewer permissions). */
  noCheckBucket?: boolean;
}

export function transferCommand(
  setup: RcloneSetup,
  plan: Extract<MappingPlan, { action: "transfer" }>,
  opts: TransferOptions = {},
): Command {
  const args = [plan.verb, plan.src, plan.dst, ...PROGRESS_FLAGS];
  if (plan.verb !== "copyto") args.push("--fast-list");
  if (opts.noCheckBucket) args.push("--s3-no-check-bucket");
  return command(setup, args);
}

/**
 * The state syncer: each mapping of a workload's sync spec, one rclone run at a time, between
 * a tenant's state directory and its prefix in the S3 bucket. Commands come from commands.ts;
 * they run here through the exec runner, with rclone's lines streamed to the log as
 * "sync: …" (stream "system"). Any failure throws a StepError with rclone's last lines, redacted.
 * hasState asks S3 directly when it can (s3-probe.ts), rclone otherwise.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, isAbsolute } from "node:path";
import { StepError, errorMessage } from "../../core/errors.ts";
import type { RemoteStateQuery, StateSyncer, SyncRequest, SyncResult } from "../../core/ports/syncer.ts";
import { type Secret, redact } from "../../core/secret.ts";
import type { SyncMode, SyncSink } from "../../core/workload.ts";
import { type Command, type RunResult, run } from "../exec/run.ts";
import {
  EXIT_DIR_NOT_FOUND,
  type MappingPlan,
  type PathKind,
  type RcloneSetup,
  mkdirCommand,
  parseProbe,
  parseTenantList,
  planDownload,
  planUpload,
  probeCommand,
  runsIn,
  tenantListCommand,
  transferCommand,
} from "./commands.ts";
import { cleanLine, failureSummary } from "./output.ts";
import { probeTenantState } from "./s3-probe.ts";
import { localPath, mappingRelPath, remotePath } from "./paths.ts";

export interface RcloneSyncerOptions {
  /** The rclone binary (default "rclone" on PATH). */
  bin?: string;
  /** Kill one rclone run after this long (default: no limit). */
  timeoutMs?: number;
  /**
   * The environment rclone starts from (config.childEnv: no AWS_*, so no AWS_CA_BUNDLE). Its
   * RCLONE_* variables, if any, are removed; the remote's own settings are added.
   */
  baseEnv?: Readonly<Record<string, string>>;
}

interface Selected {
  path: string;
  mode: SyncMode;
  local: string;
  remote: string;
}

const HINT = "check the sync sink's bucket, endpoint, region and keys, and that the S3 server is reachable";

export class RcloneSyncer implements StateSyncer {
  readonly #bin: string;
  readonly #timeoutMs: number | undefined;
  readonly #baseEnv: Readonly<Record<string, string>>;
  /** Buckets (per endpoint) that `rclone mkdir` has made sure of since this process started. */
  readonly #readyBuckets = new Set<string>();

  constructor(opts: RcloneSyncerOptions = {}) {
    this.#bin = opts.bin ?? "rclone";
    this.#timeoutMs = opts.timeoutMs;
    this.#baseEnv = opts.baseEnv ?? {};
  }

  async run(req: SyncRequest): Promise<SyncResult> {
    const started = Date.now();
    if (!isAbsolute(req.stateDir)) throw new StepError(`state directory ${JSON.stringify(req.stateDir)} is not an absolute path`);
    const setup: RcloneSetup = { sink: req.spec.sink, bin: this.#bin, inheritedEnvKeys: Object.keys(this.#baseEnv) };
    // Resolve every path first: a bad prefix or mapping fails before anything moves.
    const selected: Selected[] = req.spec.mappings
      .filter((m) => runsIn(m, req.direction))
      .map((m) => {
        const rel = mappingRelPath(m.path);
        return { path: rel === "" ? "/" : rel, mode: m.mode, local: localPath(req.stateDir, rel), remote: remotePath(req.spec.sink, req.tenantId, rel) };
      });

    let transferred = 0;
    for (const m of selected) {
      throwIfAborted(req.signal);
      const plan = req.direction === "upload" ? await this.#planUpload(m) : await this.#planDownload(setup, m, req);
      if (plan.action === "skip") {
        req.log("system", `sync: ${m.path}: ${plan.reason}`);
        continue;
      }
      if (req.direction === "upload") await this.#ensureBucket(setup, req);
      else await mkdir(plan.verb === "copyto" ? dirname(m.local) : m.local, { recursive: true });
      req.log("system", `sync: ${req.direction} ${m.path} (${plan.verb}): ${plan.src} → ${plan.dst}`);
      const res = await this.#exec(transferCommand(setup, plan, { noCheckBucket: req.direction === "upload" }), req);
      if (res.code !== 0) throw failure(`${req.direction} of ${m.path}`, res, req.spec.sink);
      transferred++;
    }
    const durationMs = Date.now() - started;
    req.log("system", `sync: ${req.direction} done: ${transferred} of ${selected.length} mapping(s) in ${durationMs} ms`);
    return { ok: true, mappings: transferred, durationMs };
  }

  /** The fast probe (one signed request) when it can answer for sure, else `rclone lsf` stopped at the first name. */
  async hasState(q: RemoteStateQuery): Promise<boolean> {
    let quick: boolean | null = null;
    try {
      quick = await probeTenantState(q.spec.sink, q.tenantId, q.signal);
    } catch {
      throwIfAborted(q.signal); // otherwise rclone gives the answer, or the error
    }
    if (quick !== null) return quick;
    const setup: RcloneSetup = { sink: q.spec.sink, bin: this.#bin, inheritedEnvKeys: Object.keys(this.#baseEnv) };
    const remote = remotePath(q.spec.sink, q.tenantId, "");
    const found = new AbortController();
    const res = await this.#exec(tenantListCommand(setup, remote), q, (line) => {
      if (parseTenantList(line)) found.abort();
    }, found.signal);
    if (found.signal.aborted) return true; // rclone stopped at the first stored name
    if (res.code === EXIT_DIR_NOT_FOUND) return false; // no bucket, or an empty prefix: nothing stored
    if (res.code !== 0) throw failure(`check of ${remote}`, res, q.spec.sink);
    return false;
  }

  async #planUpload(m: Selected): Promise<MappingPlan> {
    return planUpload({ mode: m.mode, local: m.local, remote: m.remote, localKind: await localKind(m.local) });
  }

  async #planDownload(setup: RcloneSetup, m: Selected, req: SyncRequest): Promise<MappingPlan> {
    const stdout: string[] = [];
    const res = await this.#exec(probeCommand(setup, m.remote), req, (line) => stdout.push(line));
    let remoteKind: PathKind;
    if (res.code === EXIT_DIR_NOT_FOUND) remoteKind = "missing";
    else if (res.code === 0) remoteKind = parseProbe(stdout.join("\n"));
    else throw failure(`check of ${m.remote}`, res, req.spec.sink);
    return planDownload({ mode: m.mode, local: m.local, remote: m.remote, localKind: await localKind(m.local), remoteKind });
  }

  /** `rclone mkdir` the bucket once per process. A refusal (e.g. a key without CreateBucket) is only logged. */
  async #ensureBucket(setup: RcloneSetup, req: SyncRequest): Promise<void> {
    const key = `${req.spec.sink.endpoint ?? "aws"}\n${req.spec.sink.bucket}`;
    if (this.#readyBuckets.has(key)) return;
    const res = await this.#exec(mkdirCommand(setup), req);
    if (res.code === 0) this.#readyBuckets.add(key);
    else req.log("system", `sync: could not create bucket ${req.spec.sink.bucket} (${failureSummary(res.tail)}); uploading anyway`);
  }

  /**
   * Run one rclone command; stderr goes to the log, stdout to `onStdout` when given (else the log).
   * `stop` ends it early without an error (the caller has what it needed); `req.signal` cancels it.
   */
  async #exec(cmd: Command, req: Pick<SyncRequest, "signal" | "log">, onStdout?: (line: string) => void, stop?: AbortSignal): Promise<RunResult> {
    let res: RunResult;
    let last = "";
    try {
      res = await run(cmd, {
        baseEnv: this.#baseEnv,
        signal: stop && req.signal ? AbortSignal.any([req.signal, stop]) : (stop ?? req.signal),
        timeoutMs: this.#timeoutMs,
        onLine: (stream, line) => {
          if (stream === "stdout" && onStdout) return onStdout(line);
          const text = cleanLine(line);
          // a stalled transfer repeats the same progress line every second: log it once
          if (text === "" || text === last) return;
          last = text;
          req.log("system", `sync: ${text}`);
        },
      });
    } catch (err) {
      throw new StepError(`could not start rclone (${this.#bin}): ${errorMessage(err)}`, "install rclone (apt-get install rclone) or set its path");
    }
    throwIfAborted(req.signal);
    return res;
  }
}

async function localKind(path: string): Promise<PathKind> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? "dir" : "file";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw new StepError(`cannot read ${path}: ${errorMessage(err)}`);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StepError("state sync was cancelled");
}

function failure(what: string, res: RunResult, sink: SyncSink): StepError {
  const why = res.timedOut ? "timed out" : `rclone exit ${res.code}`;
  const secrets: Secret[] = [sink.accessKeyId, sink.secretAccessKey].filter((s): s is Secret => s !== undefined);
  return new StepError(redact(`state ${what} failed (${why}): ${failureSummary(res.tail)}`, secrets), HINT);
}

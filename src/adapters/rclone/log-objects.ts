/**
 * Offloaded log segments in S3 through rclone (port LogObjects): commands from
 * log-object-commands.ts, run by the exec runner, bytes through a temp file under the data dir.
 * A failure throws a StepError with rclone's last lines, redacted (keys never reach argv or text).
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StepError, errorMessage } from "../../core/errors.ts";
import type { LogObjects } from "../../core/ports/log-objects.ts";
import { type Secret, redact } from "../../core/secret.ts";
import { newId } from "../../core/ids.ts";
import { type Command, type RunResult, run } from "../exec/run.ts";
import {
  deleteCommand,
  downloadCommand,
  ensureBucketCommand,
  type LogObjectSetup,
  type OffloadTarget,
  purgeCommand,
  targetUrl,
  uploadCommand,
} from "./log-object-commands.ts";
import { failureSummary } from "./output.ts";

export interface RcloneLogObjectsOptions {
  target: OffloadTarget;
  /** Temp files for segment bytes (e.g. $KILN_DATA_DIR/log-offload). */
  tempDir: string;
  bin?: string;
  /** The environment rclone starts from (config.childEnv). */
  baseEnv?: Readonly<Record<string, string>>;
  /** Kill one rclone run after this long (default 5 minutes). */
  timeoutMs?: number;
}

const HINT = "check KILN_LOG_OFFLOAD_URL, _ENDPOINT, _REGION and the keys, and that the S3 server is reachable";

export class RcloneLogObjects implements LogObjects {
  readonly url: string;
  readonly #setup: LogObjectSetup;
  readonly #o: RcloneLogObjectsOptions;
  #bucketReady = false;

  constructor(o: RcloneLogObjectsOptions) {
    this.#o = o;
    this.url = targetUrl(o.target);
    this.#setup = { target: o.target, bin: o.bin, inheritedEnvKeys: Object.keys(o.baseEnv ?? {}) };
  }

  async put(key: string, body: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.#ensureBucket(signal);
    await this.#withTemp(async (file) => {
      await writeFile(file, body, { mode: 0o600 });
      await this.#check(`upload of ${key}`, await this.#exec(uploadCommand(this.#setup, file, key), signal));
    });
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#withTemp(async (file) => {
      await this.#check(`download of ${key}`, await this.#exec(downloadCommand(this.#setup, key, file), signal));
      try {
        return new Uint8Array(await readFile(file));
      } catch {
        throw new StepError(`offloaded log object ${this.url}/${key} is missing`, "it was deleted outside Kiln; those lines are gone");
      }
    });
  }

  async remove(key: string): Promise<void> {
    await this.#check(`delete of ${key}`, await this.#exec(deleteCommand(this.#setup, key)));
  }

  async removeAll(dir: string): Promise<void> {
    await this.#check(`delete of ${dir}/`, await this.#exec(purgeCommand(this.#setup, dir)));
  }

  /** `rclone mkdir` the bucket once per process; a refusal (a key without CreateBucket) is left to the upload to report. */
  async #ensureBucket(signal?: AbortSignal): Promise<void> {
    if (this.#bucketReady) return;
    const res = await this.#exec(ensureBucketCommand(this.#setup), signal);
    if (res.code === 0) this.#bucketReady = true;
  }

  async #withTemp<T>(use: (file: string) => Promise<T>): Promise<T> {
    await mkdir(this.#o.tempDir, { recursive: true, mode: 0o700 });
    const file = join(this.#o.tempDir, `segment-${newId(12)}.tmp`);
    try {
      return await use(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  async #exec(cmd: Command, signal?: AbortSignal): Promise<RunResult> {
    try {
      return await run(cmd, { baseEnv: this.#o.baseEnv, signal, timeoutMs: this.#o.timeoutMs ?? 5 * 60_000 });
    } catch (err) {
      throw new StepError(`could not start rclone (${this.#o.bin ?? "rclone"}): ${errorMessage(err)}`, "install rclone (apt-get install rclone) or set its path");
    }
  }

  async #check(what: string, res: RunResult): Promise<void> {
    if (res.code === 0) return;
    const why = res.timedOut ? "timed out" : `rclone exit ${res.code}`;
    const secrets: Secret[] = [this.#o.target.accessKeyId, this.#o.target.secretAccessKey].filter((s): s is Secret => s !== undefined);
    throw new StepError(redact(`log offload ${what} at ${this.url} failed (${why}): ${failureSummary(res.tail)}`, secrets), HINT);
  }
}

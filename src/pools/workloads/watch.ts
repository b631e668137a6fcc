/**
 * Watches the workloads folder and reports what changed, by workload id, with full specs.
 *
 * fs.watch events trigger a rescan after a short debounce (editors write files in several steps);
 * a slow poll rescans too, in case events are missed (network filesystems, a re-created folder).
 * A rescan reads and parses every file and compares hashes, so it only reports real changes.
 *
 * A file that becomes invalid keeps serving its last valid version (its problems are reported in
 * `errors`) until it is fixed or deleted: a typo mid-edit must not drain a pool. Likewise, when
 * the folder can't be listed, the last workloads are kept. The first scan (in start()) reports
 * every workload as added.
 */
import { watch, type FSWatcher } from "node:fs";
import type { WorkloadSpec } from "../../core/workload.ts";
import { WorkloadSpecError, type WorkloadLoadError } from "./errors.ts";
import type { WorkloadEnv } from "./interpolate.ts";
import { parseWorkloadDir, rejectDuplicateIds, type FileOutcome } from "./load.ts";

export interface WorkloadChange {
  /** Workloads with an id not seen before. */
  added: WorkloadSpec[];
  /** New versions of known ids (their hash or file differs). */
  changed: WorkloadSpec[];
  /** The last version of ids that are gone. */
  removed: WorkloadSpec[];
  /** Every problem in the folder now (not only new ones). */
  errors: WorkloadLoadError[];
}

export interface WorkloadSnapshot {
  workloads: WorkloadSpec[];
  errors: WorkloadLoadError[];
}

export interface WorkloadWatcherOptions {
  dir: string;
  /** Values for ${VAR} in the files; a function is asked again on every scan. */
  env: WorkloadEnv | (() => WorkloadEnv);
  /** Called after a scan that changed something; calls never overlap. */
  onChange: (change: WorkloadChange) => void | Promise<void>;
  /** Quiet time after a filesystem event before rescanning (default 150 ms). */
  debounceMs?: number;
  /** Rescan this often even without events (default 5 s). */
  pollMs?: number;
  /** Where failures of onChange go (default console.error). */
  onError?: (err: unknown) => void;
}

const errorKey = (e: WorkloadLoadError) => `${e.message}\n${e.hint ?? ""}`;

export class WorkloadWatcher {
  readonly #opts: Required<Omit<WorkloadWatcherOptions, "onError">> & Pick<WorkloadWatcherOptions, "onError">;
  #byId = new Map<string, WorkloadSpec>();
  #errors: WorkloadLoadError[] = [];
  /** The last valid spec of each file, kept while the file is broken. */
  #lastGood = new Map<string, WorkloadSpec>();
  #fsWatcher: FSWatcher | null = null;
  #debounce: ReturnType<typeof setTimeout> | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #scanning: Promise<void> | null = null;
  #dirty = false;
  #running = false;

  constructor(opts: WorkloadWatcherOptions) {
    this.#opts = { ...opts, debounceMs: opts.debounceMs ?? 150, pollMs: opts.pollMs ?? 5000 };
  }

  /** Loads the folder (reporting it through onChange) and starts watching. */
  async start(): Promise<WorkloadSnapshot> {
    if (this.#running) return this.current();
    this.#running = true;
    this.#ensureFsWatch();
    this.#poll = setInterval(() => {
      this.#ensureFsWatch();
      void this.rescan();
    }, this.#opts.pollMs);
    this.#poll.unref?.();
    await this.rescan();
    return this.current();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#poll) clearInterval(this.#poll);
    this.#debounce = this.#poll = null;
    this.#fsWatcher?.close();
    this.#fsWatcher = null;
    await this.#scanning;
  }

  current(): WorkloadSnapshot {
    return { workloads: [...this.#byId.values()], errors: [...this.#errors] };
  }

  /** Scans now (or right after the scan in progress). Resolves when the folder has been read. */
  async rescan(): Promise<void> {
    if (this.#scanning) {
      this.#dirty = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      try {
        do {
          this.#dirty = false;
          await this.#scanOnce();
        } while (this.#dirty && this.#running);
      } finally {
        this.#scanning = null;
      }
    })();
    return this.#scanning;
  }

  #ensureFsWatch(): void {
    if (this.#fsWatcher || !this.#running) return;
    try {
      this.#fsWatcher = watch(this.#opts.dir, { persistent: false }, () => this.#scheduleScan());
      this.#fsWatcher.on("error", () => {
        this.#fsWatcher?.close();
        this.#fsWatcher = null; // the poll tries again
      });
    } catch {
      this.#fsWatcher = null; // no folder yet: the poll tries again
    }
  }

  #scheduleScan(): void {
    if (!this.#running) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.rescan();
    }, this.#opts.debounceMs);
  }

  async #scanOnce(): Promise<void> {
    const env = typeof this.#opts.env === "function" ? this.#opts.env() : this.#opts.env;
    let outcomes: FileOutcome[];
    let dirError: WorkloadLoadError | null = null;
    try {
      outcomes = await parseWorkloadDir(this.#opts.dir, env);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      dirError = new WorkloadSpecError(this.#opts.dir, null, `cannot be listed (${code}); keeping the workloads loaded before`);
      outcomes = [...this.#lastGood.values()].map((spec) => ({ file: spec.file, parsed: { ok: true, spec } }));
    }
    if (!this.#running) return;

    const candidates: WorkloadSpec[] = [];
    const fileErrors: WorkloadLoadError[] = dirError ? [dirError] : [];
    const lastGood = new Map<string, WorkloadSpec>();
    for (const { file, parsed } of outcomes) {
      if (parsed.ok) {
        candidates.push(parsed.spec);
        lastGood.set(file, parsed.spec);
        continue;
      }
      fileErrors.push(...parsed.errors);
      const previous = this.#lastGood.get(file);
      if (previous) {
        candidates.push(previous);
        lastGood.set(file, previous);
      }
    }
    const owners = new Map([...this.#byId.values()].map((w) => [w.id, w.file]));
    const { workloads, errors: dupErrors } = rejectDuplicateIds(candidates, owners);
    const errors = [...fileErrors, ...dupErrors];

    const next = new Map(workloads.map((w) => [w.id, w]));
    const change: WorkloadChange = { added: [], changed: [], removed: [], errors };
    for (const [id, w] of next) {
      const before = this.#byId.get(id);
      if (!before) change.added.push(w);
      else if (before.hash !== w.hash || before.file !== w.file) change.changed.push(w);
    }
    for (const [id, w] of this.#byId) if (!next.has(id)) change.removed.push(w);
    const errorsChanged = errors.map(errorKey).join("\0") !== this.#errors.map(errorKey).join("\0");

    this.#byId = next;
    this.#errors = errors;
    this.#lastGood = lastGood;
    if (change.added.length + change.changed.length + change.removed.length === 0 && !errorsChanged) return;
    try {
      await this.#opts.onChange(change);
    } catch (err) {
      (this.#opts.onError ?? console.error)(err);
    }
  }
}

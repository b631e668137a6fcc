/**
 * Keeping a long-lived process running (Caddy, the tenant resolver). The one place Kiln starts a
 * process that outlives the call (run.ts is for those it waits for):
 * - spawnChild: argv (no shell) with exactly the environment given — nothing is inherited from
 *   Kiln's — and stdout/stderr appended to a log file the child holds itself, so it may outlive Kiln;
 * - adoptPid: take over a process a previous Kiln started, knowing it by pid (and its argv);
 * - Supervisor: watches one such process; when it dies, calls `restart` after a delay that doubles
 *   on each failure (reset once a process stayed up), until `stop`;
 * - terminate: SIGTERM, then SIGKILL after a grace period, and wait until it is gone.
 * What "started" means (an admin API answers, a "listening" line) is the caller's to check.
 *
 *   const sup = new Supervisor({ name: "caddy", log, restart: () => start() });
 *   const child = spawnChild({ argv, env, logFile });   // check it came up, then:
 *   sup.watch(child);
 */
import { closeSync, openSync, readFileSync, renameSync, statSync } from "node:fs";
import { errorMessage } from "../../core/errors.ts";

export interface Child {
  readonly pid: number;
  /** Resolves once it is gone, saying how when Kiln can know ("code 1", "SIGKILL"; "" when adopted). */
  readonly exited: Promise<string>;
  /** Its stdout, when spawned with `stdout: "pipe"`. */
  readonly stdout: ReadableStream<Uint8Array> | null;
  /** Where its output goes, and how long that file was when it started. */
  readonly log: { file: string; from: number } | null;
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnSpec {
  argv: string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  cwd?: string;
  /** stdout and stderr are appended here (moved to <file>.1 first once it passes 10 MB). */
  logFile: string;
  /** "pipe": keep stdout for the caller to read (e.g. where it listens); stderr still goes to the log. */
  stdout?: "log" | "pipe";
}

const ROTATE_BYTES = 10 * 1024 * 1024;

export function spawnChild(s: SpawnSpec): Child {
  if (sizeOf(s.logFile) > ROTATE_BYTES) renameSync(s.logFile, `${s.logFile}.1`);
  const from = sizeOf(s.logFile);
  const fd = openSync(s.logFile, "a", 0o600);
  let proc;
  try {
    proc = Bun.spawn(s.argv, { cwd: s.cwd, env: s.env, stdin: "ignore", stdout: s.stdout === "pipe" ? "pipe" : fd, stderr: fd });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  proc.unref(); // a supervised process never keeps Kiln alive
  const p = proc;
  return {
    pid: p.pid,
    exited: p.exited.then((code) => (p.signalCode ? String(p.signalCode) : `code ${code}`)),
    stdout: s.stdout === "pipe" ? (p.stdout as ReadableStream<Uint8Array>) : null,
    log: { file: s.logFile, from },
    running: () => p.exitCode === null && p.signalCode === null,
    kill: (signal) => p.kill(signal),
  };
}

/**
 * A process Kiln did not start this time. `alive` says whether the pid still is that process (by
 * default: it exists and, with `argvHas`, its command line holds that word, so a recycled pid is not
 * mistaken for it); `exited` is noticed by polling every pollMs until the signal aborts.
 */
export function adoptPid(pid: number, o: { argvHas?: string; pollMs: number; signal: AbortSignal }): Child {
  const running = () => pidRunning(pid, o.argvHas);
  const exited = new Promise<string>((resolve) => {
    const check = () => {
      if (o.signal.aborted) return;
      if (!running()) return resolve("");
      setTimeout(check, o.pollMs).unref();
    };
    check();
  });
  return { pid, exited, stdout: null, log: null, running, kill: (signal) => signalPid(pid, signal) };
}

/** SIGTERM, SIGKILL after graceMs, and wait until it is gone. */
export async function terminate(child: Child, graceMs = 5000): Promise<void> {
  if (!child.running()) return;
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(killer);
}

/** The last `n` lines the child wrote to its log since it started. */
export function logTail(child: Child, n: number): string[] {
  if (!child.log) return [];
  try {
    const text = readFileSync(child.log.file).subarray(child.log.from).toString("utf8");
    return text.split("\n").filter((l) => l.length > 0).slice(-n);
  } catch {
    return [];
  }
}

/** A live process (not a zombie); with `argvHas`, one whose command line holds that word. */
export function pidRunning(pid: number, argvHas?: string): boolean {
  try {
    if (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1)?.startsWith("Z")) return false;
    return argvHas === undefined || readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(argvHas);
  } catch {
    return false;
  }
}

/** Send a signal to a pid; one that is already gone is fine. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** A process that stayed up this long starts the delays over. */
  stableMs: number;
}

/** Next restart delay and the one after it. */
export function nextBackoff(currentMs: number, maxMs: number): { delayMs: number; nextMs: number } {
  return { delayMs: currentMs, nextMs: Math.min(currentMs * 2, maxMs) };
}

export interface SupervisorOptions {
  /** What to call the process in log lines, e.g. "caddy". */
  name: string;
  log: (line: string) => void;
  /** Bring it back after it died: resolve once a new one is watched; throw to be tried again later. */
  restart: () => Promise<void>;
  /** Told when the watched process died, before the restart is scheduled. */
  onDeath?: (child: Child) => void;
  backoff?: Partial<Backoff>;
  /** How often to check that an adopted process is alive. Default 1 s. */
  pollMs?: number;
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #backoff: Backoff;
  #current: Child | null = null;
  #watchedAt = 0;
  #delayMs: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #polls = new AbortController();

  constructor(o: SupervisorOptions) {
    this.#o = o;
    this.#backoff = { initialMs: o.backoff?.initialMs ?? 500, maxMs: o.backoff?.maxMs ?? 10_000, stableMs: o.backoff?.stableMs ?? 30_000 };
    this.#delayMs = this.#backoff.initialMs;
  }

  /** The process watched now, if any. */
  get current(): Child | null {
    return this.#current;
  }

  /** Supervise (again, after a stop); a pending restart is dropped: the caller is starting it now. */
  resume(): void {
    this.#stopped = false;
    this.#cancelRestart();
  }

  /** Watch `child`: its death schedules a restart. */
  watch(child: Child): void {
    this.#cancelRestart();
    this.#current = child;
    this.#watchedAt = Date.now();
    void child.exited.then((how) => this.#onExit(child, how));
  }

  /** Adopt a running process by pid (see adoptPid) and watch it. */
  adopt(pid: number, argvHas?: string): Child {
    const child = adoptPid(pid, { argvHas, pollMs: this.#o.pollMs ?? 1000, signal: this.#polls.signal });
    this.watch(child);
    return child;
  }

  /** Stop watching the current process without killing it; returns it. */
  release(): Child | null {
    const child = this.#current;
    this.#current = null;
    return child;
  }

  /** No more restarts (a stop is coming). */
  hold(): void {
    this.#stopped = true;
    this.#cancelRestart();
  }

  /** No more restarts, and the watched process terminated (SIGTERM, then SIGKILL after graceMs). */
  async stop(graceMs = 5000): Promise<void> {
    this.hold();
    const child = this.release();
    if (child) await terminate(child, graceMs);
    this.#polls.abort();
    this.#polls = new AbortController();
  }

  #onExit(child: Child, how: string): void {
    if (child !== this.#current) return; // released, replaced or stopped: not a crash
    this.#current = null;
    if (this.#stopped) return;
    if (Date.now() - this.#watchedAt >= this.#backoff.stableMs) this.#delayMs = this.#backoff.initialMs;
    this.#o.log(`${this.#o.name} (pid ${child.pid}) exited${how ? ` with ${how}` : ""}; restarting`);
    this.#o.onDeath?.(child);
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#stopped || this.#timer) return;
    const { delayMs, nextMs } = nextBackoff(this.#delayMs, this.#backoff.maxMs);
    this.#delayMs = nextMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#stopped || this.#current) return; // stopped, or already started again
      this.#o.restart().catch((err: unknown) => {
        this.#o.log(`restarting ${this.#o.name} failed: ${errorMessage(err)}; trying again`);
        if (!this.#current) this.#scheduleRestart();
      });
    }, delayMs);
    this.#timer.unref?.();
  }

  #cancelRestart(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

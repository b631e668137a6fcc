/**
 * Keeps a Caddy running for Kiln. If an admin API already answers at adminUrl, Kiln uses that
 * Caddy and leaves it alone. Otherwise it starts `caddy run` with a bootstrap config (just the
 * admin API, nothing persisted), restarts it with backoff when it dies, and calls onRestart
 * so Kiln re-applies its routes (a fresh Caddy has none).
 *
 * Spawns with Bun.spawn directly (argv array, no shell): exec/run.ts waits for exit, this one
 * is long-lived.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { KilnError, errorMessage } from "../../core/errors.ts";
import { pump } from "../exec/run.ts";
import { CaddyAdminClient } from "./admin-client.ts";
import { adminListenOf, bootstrapConfig } from "./route-json.ts";

export interface CaddySupervisorOptions {
  /** e.g. http://127.0.0.1:2019 */
  adminUrl: string;
  /** Kiln's data dir; Caddy's bootstrap config and its own data live under <dataDir>/caddy. */
  dataDir: string;
  /** Binary name or path; default "caddy" looked up on PATH. */
  caddyBin?: string;
  /** Called after Caddy came back from a crash: re-apply routes (RouteTable.load). */
  onRestart?: () => void | Promise<void>;
  /** Supervisor events (start, crash, restart). Default: console.error. */
  log?: (line: string) => void;
  /** Caddy's own stdout/stderr lines. Default: dropped (the last lines go into start errors). */
  onOutput?: (line: string) => void;
  /** How long to wait for the admin API after starting. Default 10s. */
  startTimeoutMs?: number;
  /** Restart delays: doubling from initialMs up to maxMs; reset once Caddy stayed up for stableMs. */
  backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
}

/** external: another Caddy answers; started: Kiln started one now; running: Kiln's Caddy was already up. */
export type EnsureResult = "external" | "started" | "running";

const TAIL = 20;

/** The argv that starts Caddy on a bootstrap config. */
export function caddyArgv(bin: string, configPath: string): string[] {
  return [bin, "run", "--config", configPath];
}

/** Next restart delay and the one after it. */
export function nextBackoff(currentMs: number, maxMs: number): { delayMs: number; nextMs: number } {
  return { delayMs: currentMs, nextMs: Math.min(currentMs * 2, maxMs) };
}

export class CaddySupervisor {
  private readonly admin: CaddyAdminClient;
  private readonly adminListen: string;
  private readonly dir: string;
  private readonly bin: string;
  private readonly log: (line: string) => void;
  private readonly startTimeoutMs: number;
  private readonly backoff: { initialMs: number; maxMs: number; stableMs: number };

  private proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  private startedAt = 0;
  /** The process whose admin API came up; only its death triggers a restart. */
  private readyProc: Subprocess | null = null;
  private tail: string[] = [];
  private inFlight: Promise<EnsureResult> | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private backoffMs: number;
  private stopped = false;
  /** Set when Kiln's Caddy died: the next successful ensureRunning fires onRestart. */
  private lostConfig = false;

  constructor(private readonly opts: CaddySupervisorOptions) {
    this.admin = new CaddyAdminClient(opts.adminUrl);
    this.adminListen = adminListenOf(opts.adminUrl);
    this.dir = join(opts.dataDir, "caddy");
    this.bin = opts.caddyBin ?? "caddy";
    this.log = opts.log ?? ((line) => console.error(`kiln: caddy: ${line}`));
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000;
    this.backoff = {
      initialMs: opts.backoff?.initialMs ?? 500,
      maxMs: opts.backoff?.maxMs ?? 10_000,
      stableMs: opts.backoff?.stableMs ?? 30_000,
    };
    this.backoffMs = this.backoff.initialMs;
  }

  /** Pid of the Caddy Kiln started, or null when none runs (or an external one is used). */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get bootstrapPath(): string {
    return join(this.dir, "bootstrap.json");
  }

  /** Make sure a Caddy admin API answers at adminUrl, starting Caddy if needed. Concurrent calls share one attempt. */
  ensureRunning(): Promise<EnsureResult> {
    this.stopped = false;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    if (!this.inFlight) {
      this.inFlight = this.ensureNow().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  /** Kill the Caddy Kiln started (SIGTERM, then SIGKILL after 5s) and stop restarting it. An external Caddy is left alone. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    await this.inFlight?.catch(() => undefined);
    const proc = this.proc;
    this.proc = null;
    if (proc) await terminate(proc);
  }

  private async ensureNow(): Promise<EnsureResult> {
    let result: EnsureResult;
    if (this.proc) {
      if (!(await this.waitForAdmin(this.proc))) {
        await this.killOwn();
        throw this.startError("Kiln's Caddy stopped answering on its admin API");
      }
      result = "running";
    } else if (await this.admin.answers()) {
      result = "external";
    } else {
      await this.start();
      result = "started";
    }
    if (this.lostConfig) {
      this.lostConfig = false;
      await this.fireRestart();
    }
    return result;
  }

  private async start(): Promise<void> {
    const bin = Bun.which(this.bin);
    if (!bin) {
      throw new KilnError(
        "unavailable",
        `Caddy's admin API at ${this.opts.adminUrl} does not answer and no \`${this.bin}\` binary is on PATH`,
        "install Caddy 2.6+ (e.g. `apt install caddy`), or start Caddy yourself with its admin API at that address",
      );
    }
    await mkdir(join(this.dir, "data"), { recursive: true });
    await mkdir(join(this.dir, "config"), { recursive: true });
    await Bun.write(this.bootstrapPath, JSON.stringify(bootstrapConfig(this.adminListen), null, 2) + "\n");

    this.tail = [];
    const proc = Bun.spawn(caddyArgv(bin, this.bootstrapPath), {
      cwd: this.dir,
      // Caddy's storage (certs, autosave) stays under Kiln's data dir.
      env: { ...process.env, XDG_DATA_HOME: join(this.dir, "data"), XDG_CONFIG_HOME: join(this.dir, "config") },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.proc = proc;
    this.startedAt = Date.now();
    const onLine = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > TAIL) this.tail.shift();
      this.opts.onOutput?.(line);
    };
    void pump(proc.stdout, onLine).catch(() => undefined);
    void pump(proc.stderr, onLine).catch(() => undefined);
    void proc.exited.then((code) => this.onExit(proc, code));
    this.log(`started caddy (pid ${proc.pid}) with its admin API at ${this.adminListen}`);

    if (!(await this.waitForAdmin(proc))) {
      const exited = proc.exitCode !== null || proc.signalCode !== null;
      await this.killOwn();
      throw this.startError(
        exited
          ? `caddy exited right after starting (${proc.signalCode ?? `code ${proc.exitCode}`})`
          : `caddy did not open its admin API within ${this.startTimeoutMs}ms`,
      );
    }
    this.readyProc = proc;
  }

  /** Poll the admin API until it answers, the process exits, or the start timeout passes. */
  private async waitForAdmin(proc: Subprocess): Promise<boolean> {
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) return false;
      if (await this.admin.answers(1000)) return true;
      await Bun.sleep(100);
    }
    return false;
  }

  private startError(what: string): KilnError {
    const tail = this.tail.slice(-5).join("\n");
    return new KilnError(
      "unavailable",
      `${what} (admin API ${this.adminListen})${tail ? `; its last output:\n${tail}` : ""}`,
      `check that the admin address and the public port are free, and see ${this.bootstrapPath}`,
    );
  }

  private onExit(proc: Subprocess, code: number): void {
    if (proc !== this.proc) return; // an old process, or one stop()/killOwn() took over
    this.proc = null;
    // A process that never came up is start()'s failure to report, not a crash to restart.
    if (this.stopped || proc !== this.readyProc) return;
    this.lostConfig = true;
    if (Date.now() - this.startedAt >= this.backoff.stableMs) this.backoffMs = this.backoff.initialMs;
    this.log(`caddy (pid ${proc.pid}) exited with ${proc.signalCode ?? `code ${code}`}; restarting`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const { delayMs, nextMs } = nextBackoff(this.backoffMs, this.backoff.maxMs);
    this.backoffMs = nextMs;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      this.ensureRunning().then(
        (result) => this.log(result === "external" ? "another Caddy now answers on the admin address; using it" : "caddy is back"),
        (err) => {
          this.log(`restart failed: ${errorMessage(err)}`);
          this.scheduleRestart();
        },
      );
    }, delayMs);
    this.restartTimer.unref?.();
  }

  private async fireRestart(): Promise<void> {
    try {
      await this.opts.onRestart?.();
    } catch (err) {
      this.log(`re-applying routes after the restart failed: ${errorMessage(err)}`);
    }
  }

  private async killOwn(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc) await terminate(proc);
  }
}

async function terminate(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(killer);
}

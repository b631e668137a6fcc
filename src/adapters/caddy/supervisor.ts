/**
 * Keeps a Caddy running for Kiln. If an admin API already answers at adminUrl, Kiln uses that
 * Caddy: the one a previous Kiln on this data dir started (its pid in <dataDir>/caddy/caddy.pid,
 * its argv naming this bootstrap config) is adopted and kept like one started now — a Kiln killed
 * with SIGKILL and started again still restarts its Caddy when it dies — and any other is left
 * alone. Otherwise it starts `caddy run` with a bootstrap config (just the
 * admin API, nothing persisted) and the environment it is given plus Caddy's storage dirs under
 * Kiln's data dir; its output goes to <dataDir>/caddy/caddy.log. When it dies the process
 * supervisor (../exec/supervisor.ts) starts it again with backoff, and onRestart lets Kiln
 * re-apply its routes (a fresh Caddy has none).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError, errorMessage } from "../../core/errors.ts";
import { type Child, Supervisor, logTail, pidRunning, spawnChild, terminate } from "../exec/supervisor.ts";
import { CaddyAdminClient } from "./admin-client.ts";
import { adminListenOf, bootstrapConfig } from "./route-json.ts";

export interface CaddySupervisorOptions {
  /** e.g. http://127.0.0.1:2019 */
  adminUrl: string;
  /** Kiln's data dir; Caddy's bootstrap config, log and its own data live under <dataDir>/caddy. */
  dataDir: string;
  /** Caddy's environment (config.childEnv); XDG_DATA_HOME and XDG_CONFIG_HOME are added. Its PATH finds the binary. */
  env: Record<string, string>;
  /** Binary name or path; default "caddy" looked up on env.PATH. */
  caddyBin?: string;
  /** Called after Caddy came back from a crash: re-apply routes (RouteTable.load). */
  onRestart?: () => void | Promise<void>;
  /** Supervisor events (start, crash, restart). Default: console.error. */
  log?: (line: string) => void;
  /** How long to wait for the admin API after starting. Default 10s. */
  startTimeoutMs?: number;
  /** Restart delays: doubling from initialMs up to maxMs; reset once Caddy stayed up for stableMs. */
  backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
}

/** external: another Caddy answers; started: Kiln started one now; running: Kiln's Caddy was already up (or adopted from a previous Kiln). */
export type EnsureResult = "external" | "started" | "running";

/** The argv that starts Caddy on a bootstrap config. */
export function caddyArgv(bin: string, configPath: string): string[] {
  return [bin, "run", "--config", configPath];
}

export class CaddySupervisor {
  readonly #o: CaddySupervisorOptions;
  readonly #admin: CaddyAdminClient;
  readonly #adminListen: string;
  readonly #dir: string;
  readonly #bin: string;
  readonly #log: (line: string) => void;
  readonly #startTimeoutMs: number;
  readonly #sup: Supervisor;
  #inFlight: Promise<EnsureResult> | null = null;
  /** Set when Kiln's Caddy died: the next successful ensureRunning fires onRestart. */
  #lostConfig = false;

  constructor(o: CaddySupervisorOptions) {
    this.#o = o;
    this.#admin = new CaddyAdminClient(o.adminUrl);
    this.#adminListen = adminListenOf(o.adminUrl);
    this.#dir = join(o.dataDir, "caddy");
    this.#bin = o.caddyBin ?? "caddy";
    this.#log = o.log ?? ((line) => console.error(`kiln: caddy: ${line}`));
    this.#startTimeoutMs = o.startTimeoutMs ?? 10_000;
    this.#sup = new Supervisor({
      name: "caddy",
      log: this.#log,
      backoff: o.backoff,
      onDeath: () => void (this.#lostConfig = true),
      restart: async () => {
        const result = await this.ensureRunning();
        this.#log(result === "external" ? "another Caddy now answers on the admin address; using it" : "caddy is back");
      },
    });
  }

  /** Pid of the Caddy Kiln started, or null when none runs (or an external one is used). */
  get pid(): number | null {
    return this.#sup.current?.pid ?? null;
  }

  get bootstrapPath(): string {
    return join(this.#dir, "bootstrap.json");
  }

  get logPath(): string {
    return join(this.#dir, "caddy.log");
  }

  get pidPath(): string {
    return join(this.#dir, "caddy.pid");
  }

  /** Make sure a Caddy admin API answers at adminUrl, starting Caddy if needed. Concurrent calls share one attempt. */
  ensureRunning(): Promise<EnsureResult> {
    this.#sup.resume();
    this.#inFlight ??= this.#ensureNow().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /** Kill the Caddy Kiln started (SIGTERM, then SIGKILL after 5s) and stop restarting it. An external Caddy is left alone. */
  async stop(): Promise<void> {
    this.#sup.hold();
    await this.#inFlight?.catch(() => undefined);
    await this.#sup.stop();
  }

  async #ensureNow(): Promise<EnsureResult> {
    let result: EnsureResult;
    const own = this.#sup.current;
    if (own) {
      if (!(await this.#waitForAdmin(own))) {
        const child = this.#sup.release();
        if (child) await terminate(child);
        throw this.#startError("Kiln's Caddy stopped answering on its admin API", own);
      }
      result = "running";
    } else if (await this.#admin.answers()) {
      result = (await this.#adoptPrevious()) ? "running" : "external";
    } else {
      this.#sup.watch(await this.#start());
      result = "started";
    }
    if (this.#lostConfig) {
      this.#lostConfig = false;
      await this.#fireRestart();
    }
    return result;
  }

  /** Start Caddy and wait for its admin API; a process that never comes up is killed, not restarted. */
  async #start(): Promise<Child> {
    const bin = Bun.which(this.#bin, { PATH: this.#o.env.PATH ?? "" });
    if (!bin) {
      throw new KilnError(
        "unavailable",
        `Caddy's admin API at ${this.#o.adminUrl} does not answer and no \`${this.#bin}\` binary is on PATH`,
        "install Caddy 2.6+ (e.g. `apt install caddy`), or start Caddy yourself with its admin API at that address",
      );
    }
    await mkdir(join(this.#dir, "data"), { recursive: true });
    await mkdir(join(this.#dir, "config"), { recursive: true });
    await Bun.write(this.bootstrapPath, JSON.stringify(bootstrapConfig(this.#adminListen), null, 2) + "\n");

    const child = spawnChild({
      argv: caddyArgv(bin, this.bootstrapPath),
      cwd: this.#dir,
      // Caddy's storage (certs, autosave) stays under Kiln's data dir.
      env: { ...this.#o.env, XDG_DATA_HOME: join(this.#dir, "data"), XDG_CONFIG_HOME: join(this.#dir, "config") },
      logFile: this.logPath,
    });
    this.#log(`started caddy (pid ${child.pid}) with its admin API at ${this.#adminListen}`);
    await writeFile(this.pidPath, `${child.pid}\n`);
    if (!(await this.#waitForAdmin(child))) {
      const exited = !child.running();
      await terminate(child);
      throw this.#startError(
        exited ? `caddy exited right after starting (${await child.exited})` : `caddy did not open its admin API within ${this.#startTimeoutMs}ms`,
        child,
      );
    }
    return child;
  }

  /** Watch the Caddy a previous Kiln on this data dir started, if it is the one still running. */
  async #adoptPrevious(): Promise<boolean> {
    const pid = Number((await readFile(this.pidPath, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(pid) || pid <= 0 || !pidRunning(pid, this.bootstrapPath)) return false;
    this.#sup.adopt(pid, this.bootstrapPath);
    this.#log(`adopted caddy (pid ${pid}) started by a previous Kiln`);
    return true;
  }

  /** Poll the admin API until it answers, the process exits, or the start timeout passes. */
  async #waitForAdmin(child: Child): Promise<boolean> {
    const deadline = Date.now() + this.#startTimeoutMs;
    while (Date.now() < deadline) {
      if (!child.running()) return false;
      if (await this.#admin.answers(1000)) return true;
      await Bun.sleep(100);
    }
    return false;
  }

  #startError(what: string, child: Child): KilnError {
    const tail = logTail(child, 5).join("\n");
    return new KilnError(
      "unavailable",
      `${what} (admin API ${this.#adminListen})${tail ? `; its last output:\n${tail}` : ""}`,
      `check that the admin address and the public port are free, and see ${this.logPath} and ${this.bootstrapPath}`,
    );
  }

  async #fireRestart(): Promise<void> {
    try {
      await this.#o.onRestart?.();
    } catch (err) {
      this.#log(`re-applying routes after the restart failed: ${errorMessage(err)}`);
    }
  }
}

/**
 * Keeps Kiln's tenant resolver process running (src/routing/main.ts). Like Caddy, it outlives a
 * Kiln that crashed, so tenants' URLs keep answering; the next Kiln adopts it through
 * `<dataDir>/tenant-resolver.json` (pid, address, and what it serves). A resolver that died is started
 * again, on its old port when it can be had; when the address changes, onMoved lets Kiln point Caddy
 * at the new one. A clean stop stops it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { KilnError, errorMessage } from "../core/errors.ts";
import { addressName } from "../core/address-names.ts";
import { queryDns } from "../adapters/dns/client.ts";
import { RCODE, RTYPE } from "../formats/dns-wire.ts";
import { LISTENING } from "./main.ts";

export interface ResolverProcessOptions {
  dataDir: string;
  dbPath: string;
  publicHost: string;
  /** 0: any free port (the last one is tried first on a restart). */
  port: number;
  /** The resolver came back on another address: re-point Caddy. */
  onMoved: (address: string) => void | Promise<void>;
  log: (line: string) => void;
  /** How often to check the process is alive. Default 1s. */
  checkMs?: number;
}

interface StateFile {
  pid: number;
  address: string;
  publicHost: string;
  dbPath: string;
}

const STATE_FILE = "tenant-resolver.json";
const START_TIMEOUT_MS = 10_000;

/** The argv that runs `kiln tenant-resolver`: this binary when compiled, else bun with bin/kiln. */
export function resolverArgv(args: { dbPath: string; publicHost: string; port: number }): string[] {
  const compiled = import.meta.path.startsWith("/$bunfs/");
  const self = compiled ? [process.execPath] : [process.execPath, join(import.meta.dir, "..", "..", "bin", "kiln")];
  return [...self, "tenant-resolver", "--db", args.dbPath, "--public-host", args.publicHost, "--port", String(args.port)];
}

/** True when a DNS query for a loopback name gets the answer only Kiln's resolver gives. */
export async function resolverAnswers(address: string, timeoutMs = 500): Promise<boolean> {
  try {
    const r = await queryDns(address, addressName("127.0.0.1"), RTYPE.A, timeoutMs);
    return r.rcode === RCODE.ok && r.a[0] === "127.0.0.1";
  } catch {
    return false;
  }
}

export class TenantResolverProcess {
  readonly #o: ResolverProcessOptions;
  readonly #statePath: string;
  #pid: number | null = null;
  #child: Subprocess | null = null;
  #address: string | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #checking = false;
  #stopped = false;

  constructor(o: ResolverProcessOptions) {
    this.#o = o;
    this.#statePath = join(o.dataDir, STATE_FILE);
  }

  get address(): string {
    if (!this.#address) throw new KilnError("internal", "the tenant resolver has not been started");
    return this.#address;
  }

  /** Adopt the resolver a previous Kiln left running, or start one. Returns its address. */
  async start(): Promise<string> {
    this.#stopped = false;
    const prev = this.#readState();
    if (prev && prev.publicHost === this.#o.publicHost && prev.dbPath === this.#o.dbPath && isResolverPid(prev.pid) && (await resolverAnswers(prev.address))) {
      this.#pid = prev.pid;
      this.#address = prev.address;
      this.#o.log(`tenant resolver: adopted pid ${prev.pid} on ${prev.address}`);
    } else {
      if (prev && isResolverPid(prev.pid)) killQuietly(prev.pid); // serves something else, or stopped answering
      await this.#spawn(this.#o.port || portOf(prev?.address));
    }
    this.#timer = setInterval(() => void this.#check(), this.#o.checkMs ?? 1000);
    this.#timer.unref?.();
    return this.#address!;
  }

  /** Stop the resolver (tenants' URLs stop answering: a clean stop of Kiln stops its data plane). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    const child = this.#child;
    if (this.#pid) killQuietly(this.#pid);
    if (child) await Promise.race([child.exited, Bun.sleep(3000)]);
    rmSync(this.#statePath, { force: true });
    this.#pid = null;
    this.#child = null;
  }

  async #check(): Promise<void> {
    if (this.#checking || this.#stopped || !this.#pid) return;
    this.#checking = true;
    try {
      const child = this.#child;
      const alive = child ? child.exitCode === null && child.signalCode === null : isResolverPid(this.#pid);
      if (alive) return;
      this.#o.log(`tenant resolver: pid ${this.#pid} is gone; starting it again`);
      const before = this.#address;
      await this.#spawn(this.#o.port || portOf(before ?? undefined));
      if (this.#address !== before) await this.#o.onMoved(this.#address!);
    } catch (err) {
      this.#o.log(`tenant resolver: ${errorMessage(err)} (trying again)`);
    } finally {
      this.#checking = false;
    }
  }

  /** Start a resolver on `port`; if that port can't be had and it wasn't asked for, on any port. */
  async #spawn(port: number): Promise<void> {
    try {
      await this.#spawnOn(port);
    } catch (err) {
      if (port === 0 || this.#o.port !== 0) throw err;
      await this.#spawnOn(0);
    }
  }

  async #spawnOn(port: number): Promise<void> {
    const argv = resolverArgv({ dbPath: this.#o.dbPath, publicHost: this.#o.publicHost, port });
    const logFile = Bun.file(join(this.#o.dataDir, "tenant-resolver.log"));
    // It needs nothing from Kiln's environment (which may hold keys): only PATH.
    const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: logFile, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    const address = await firstLine(child, START_TIMEOUT_MS).catch(async (err) => {
      child.kill();
      throw new KilnError("unavailable", `cannot start the tenant resolver on 127.0.0.1:${port}: ${errorMessage(err)}`, `see ${join(this.#o.dataDir, "tenant-resolver.log")}`);
    });
    this.#child = child;
    this.#pid = child.pid;
    this.#address = address;
    child.unref();
    writeFileSync(this.#statePath, JSON.stringify({ pid: child.pid, address, publicHost: this.#o.publicHost, dbPath: this.#o.dbPath } satisfies StateFile), { mode: 0o600 });
  }

  #readState(): StateFile | null {
    if (!existsSync(this.#statePath)) return null;
    try {
      const s = JSON.parse(readFileSync(this.#statePath, "utf8")) as StateFile;
      return Number.isInteger(s.pid) && typeof s.address === "string" ? s : null;
    } catch {
      return null;
    }
  }
}

/** The `listening host:port` line, read from the child's stdout; the pipe is then let go. */
async function firstLine(child: Subprocess<"ignore", "pipe", any>, timeoutMs: number): Promise<string> {
  const reader = child.stdout.getReader();
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(child.exitCode !== null ? `it exited with code ${child.exitCode}` : "it did not say where it listens in time");
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  const line = text.split("\n")[0]!;
  if (!line.startsWith(LISTENING)) throw new Error(`unexpected output ${JSON.stringify(line)}`);
  return line.slice(LISTENING.length).trim();
}

function portOf(address: string | undefined): number {
  const port = Number(address?.slice(address.lastIndexOf(":") + 1));
  return Number.isInteger(port) && port > 0 ? port : 0;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A live process that is a Kiln tenant resolver (so a recycled pid is never killed). */
function isResolverPid(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("tenant-resolver");
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
}

/**
 * Keeps Kiln's tenant resolver process running (src/routing/main.ts). Like Caddy, it outlives a
 * Kiln that crashed, so tenants' URLs keep answering; the next Kiln adopts it through
 * `<dataDir>/tenant-resolver.json` (pid, address, and what it serves) when that pid is still a
 * resolver and answers there. One that died is started again by the process supervisor
 * (src/adapters/exec/supervisor.ts), on its old port when it can be had; when the address changes,
 * onMoved lets Kiln point Caddy at the new one. A clean stop stops it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KilnError, errorMessage } from "../core/errors.ts";
import type { Secret } from "../core/secret.ts";
import { addressName } from "../core/address-names.ts";
import { queryDns } from "../adapters/dns/client.ts";
import { type Child, Supervisor, pidRunning, signalPid, spawnChild, terminate } from "../adapters/exec/supervisor.ts";
import { RCODE, RTYPE } from "../formats/dns-wire.ts";
import { LISTENING } from "./main.ts";

export interface ResolverProcessOptions {
  dataDir: string;
  /** The SQLite file; with Postgres, its URL without the password (what the resolver serves, compared on adoption). */
  dbPath: string;
  /** Kiln's Postgres (KILN_DATABASE_URL): given to the resolver in its environment, never argv; absent: SQLite. */
  databaseUrl?: Secret | null;
  publicHost: string;
  /** 0: any free port (the last one is tried first on a restart). */
  port: number;
  /** The resolver's whole environment (config.childEnv): it needs nothing of Kiln's. */
  env: Record<string, string>;
  /** The resolver came back on another address: re-point Caddy. */
  onMoved: (address: string) => void | Promise<void>;
  log: (line: string) => void;
  /** How often to check that an adopted resolver is alive. Default 1s. */
  checkMs?: number;
}

interface StateFile {
  pid: number;
  address: string;
  publicHost: string;
  dbPath: string;
}

const STATE_FILE = "tenant-resolver.json";
const LOG_FILE = "tenant-resolver.log";
const START_TIMEOUT_MS = 10_000;
/** The word in its argv that tells a resolver from a process that got its pid later. */
const ARGV_WORD = "tenant-resolver";

/**
 * What the resolver runs with beyond Kiln's child environment: JavaScriptCore without its JIT
 * (the interpreter only). Each lookup is a UDP read, one SQLite query and a short reply, as cheap
 * interpreted (the same CPU per lookup, measured), while the JIT's code and profiling data cost it
 * ~10 MiB after traffic (bench/resolver-footprint.bench.ts).
 */
export const RESOLVER_RUNTIME_ENV: Record<string, string> = { BUN_JSC_useJIT: "0" };

/** The resolver's whole environment, from Kiln's child environment. */
export function resolverEnv(childEnv: Record<string, string>): Record<string, string> {
  return { ...childEnv, ...RESOLVER_RUNTIME_ENV };
}

/** The argv that runs `kiln tenant-resolver`: this binary when compiled, else bun with bin/kiln. */
export function resolverArgv(args: { dbPath: string; publicHost: string; port: number; watch?: string }): string[] {
  const compiled = import.meta.path.startsWith("/$bunfs/");
  const self = compiled ? [process.execPath] : [process.execPath, join(import.meta.dir, "..", "..", "bin", "kiln")];
  return [...self, ARGV_WORD, "--db", args.dbPath, "--public-host", args.publicHost, "--port", String(args.port), ...(args.watch ? ["--watch", args.watch] : [])];
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
  readonly #sup: Supervisor;
  #address: string | null = null;

  constructor(o: ResolverProcessOptions) {
    this.#o = o;
    this.#statePath = join(o.dataDir, STATE_FILE);
    this.#sup = new Supervisor({
      name: "tenant resolver",
      log: o.log,
      pollMs: o.checkMs ?? 1000,
      backoff: { initialMs: 100, maxMs: 5000 },
      restart: () => this.#restart(),
    });
  }

  get address(): string {
    if (!this.#address) throw new KilnError("internal", "the tenant resolver has not been started");
    return this.#address;
  }

  /** Adopt the resolver a previous Kiln left running, or start one. Returns its address. */
  async start(): Promise<string> {
    this.#sup.resume();
    const prev = this.#readState();
    const isResolver = prev !== null && pidRunning(prev.pid, ARGV_WORD);
    if (isResolver && prev.publicHost === this.#o.publicHost && prev.dbPath === this.#o.dbPath && (await resolverAnswers(prev.address))) {
      this.#sup.adopt(prev.pid, ARGV_WORD);
      this.#address = prev.address;
      this.#o.log(`tenant resolver: adopted pid ${prev.pid} on ${prev.address}`);
    } else {
      if (isResolver) signalPid(prev.pid, "SIGTERM"); // serves something else, or stopped answering
      await this.#spawn(this.#o.port || portOf(prev?.address));
    }
    return this.#address!;
  }

  /** Stop the resolver (tenants' URLs stop answering: a clean stop of Kiln stops its data plane). */
  async stop(): Promise<void> {
    await this.#sup.stop(3000);
    rmSync(this.#statePath, { force: true });
  }

  /** After it died: again on its port (or any, when that is taken and none was asked for). */
  async #restart(): Promise<void> {
    const before = this.#address;
    await this.#spawn(this.#o.port || portOf(before ?? undefined));
    if (this.#address === before) return;
    try {
      await this.#o.onMoved(this.#address!);
    } catch (err) {
      this.#o.log(`tenant resolver: re-pointing Caddy at ${this.#address} failed: ${errorMessage(err)}`);
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
    const logFile = join(this.#o.dataDir, LOG_FILE);
    const db = this.#o.databaseUrl;
    // With Postgres it stops once Kiln's data dir is gone (there is no database file to watch).
    const argv = resolverArgv({ dbPath: this.#o.dbPath, publicHost: this.#o.publicHost, port, ...(db ? { watch: this.#o.dataDir } : {}) });
    const env = db ? { ...resolverEnv(this.#o.env), KILN_DATABASE_URL: db.reveal() } : resolverEnv(this.#o.env);
    const child = spawnChild({ argv, env, logFile, stdout: "pipe" });
    const address = await firstLine(child, START_TIMEOUT_MS).catch(async (err) => {
      await terminate(child, 1000);
      throw new KilnError("unavailable", `cannot start the tenant resolver on 127.0.0.1:${port}: ${errorMessage(err)}`, `see ${logFile}`);
    });
    this.#sup.watch(child);
    this.#address = address;
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
async function firstLine(child: Child, timeoutMs: number): Promise<string> {
  const reader = child.stdout!.getReader();
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) {
        const how = await Promise.race([child.exited, Bun.sleep(1000).then(() => null)]);
        throw new Error(how === null ? "it did not say where it listens in time" : `it exited with ${how}`);
      }
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

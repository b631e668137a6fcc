/**
 * A real PostgreSQL for tests: a throwaway cluster (Debian's postgresql, /usr/lib/postgresql/<v>/bin)
 * initialised in a fresh temp directory, listening on 127.0.0.1 only, on a free port of its own,
 * password auth over TCP. PostgreSQL refuses to run as root, so as root the cluster runs as the
 * `postgres` user (runuser). With KILN_TEST_DATABASE_URL set (a role allowed to CREATE DATABASE),
 * that server is used instead and nothing is started.
 *
 *   const pg = await startPostgres();
 *   const url = await pg.createDatabase(); // a fresh, empty database: one per test, or per Kiln
 *   await pg.stop();                       // drops nothing; deletes the cluster it started
 *
 * One cluster serves many databases, so several Kilns can share it (as several control planes would).
 */
import { SQL } from "bun";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface TestPostgres {
  /** postgres://…@127.0.0.1:<port>/postgres: the admin connection (creates databases). */
  url: string;
  /** Creates an empty database; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the cluster it started and deletes its directory (a given server is left as it was). */
  stop(): Promise<void>;
}

const PG_ROOT = "/usr/lib/postgresql";
let dbCounter = 0;

/** The bin directory of the newest installed PostgreSQL. */
export function postgresBin(): string {
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL under ${PG_ROOT}: install Debian's postgresql (scripts/setup.sh)`);
  return join(PG_ROOT, versions[0]!, "bin");
}

export async function startPostgres(env: Record<string, string | undefined> = process.env): Promise<TestPostgres> {
  const given = env.KILN_TEST_DATABASE_URL;
  if (given) return around(given, async () => {});
  return startCluster();
}

async function startCluster(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "kiln-pg-"));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? (Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim() || "") : "";
  if (asRoot) {
    if (!owner) throw new Error("running as root needs a `postgres` user to run PostgreSQL as");
    const gid = Number(Bun.spawnSync(["id", "-g", "postgres"]).stdout.toString().trim());
    chownSync(dir, Number(owner), gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  const password = crypto.randomUUID().replaceAll("-", "");
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (asRoot) Bun.spawnSync(["chown", "postgres:postgres", pwfile]);
  const run = (argv: string[]) => {
    const full = asRoot ? ["runuser", "-u", "postgres", "--", ...argv] : argv;
    const r = Bun.spawnSync(full, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" } });
    if (r.exitCode !== 0) throw new Error(`${argv[0]} failed (${r.exitCode}): ${r.stderr.toString().slice(-2000)}`);
  };
  run([join(bin, "initdb"), "-D", data, "-U", "postgres", "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]);
  rmSync(pwfile);
  const port = freePort();
  const opts = [
    "-c listen_addresses=127.0.0.1",
    `-c port=${port}`,
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c max_connections=200",
  ].join(" ");
  run([join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"]);
  let stopped = false;
  return around(`postgres://postgres:${password}@127.0.0.1:${port}/postgres`, async () => {
    if (stopped) return;
    stopped = true;
    try {
      run([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function around(url: string, stopCluster: () => Promise<void>): TestPostgres {
  const admin = new SQL(url, { max: 2 });
  return {
    url,
    async createDatabase(name) {
      const db = name ?? `kiln_test_${process.pid}_${++dbCounter}_${Date.now().toString(36)}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`database name ${db} must be lower-case letters, digits and _`);
      await admin.unsafe(`CREATE DATABASE ${db}`);
      const u = new URL(url);
      u.pathname = `/${db}`;
      return u.toString();
    },
    async stop() {
      await admin.close();
      await stopCluster();
    },
  };
}

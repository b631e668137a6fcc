/**
 * The tenant resolver process (`kiln tenant-resolver`, started by `kiln serve`): answers Caddy's
 * lookups of where each tenant's requests go, reading Kiln's database read-only. It is kept apart
 * from the control plane for the same reason Caddy is: tenants' URLs keep answering while Kiln
 * restarts or after it crashed, and the next Kiln adopts it (src/routing/resolver-process.ts).
 *
 * Prints one line, `listening <host:port>`, once it answers; then writes nothing more to stdout.
 * Exits on SIGTERM/SIGINT, and by itself once the database file is gone (its data dir was removed).
 *
 * bin/kiln dispatches `tenant-resolver` here before loading the CLI, so this process holds only
 * this file's imports (no zod, Hono or server modules: src/routing/main.test.ts checks): keep them few.
 */
import { existsSync } from "node:fs";
import { SqliteEndpointReader } from "../adapters/store/sqlite-endpoints.ts";
import { PostgresEndpointReader } from "../adapters/store/postgres-endpoints.ts";
import { startDnsServer } from "../adapters/dns/server.ts";
import { TenantResolver } from "./tenant-resolver.ts";

export interface ResolverArgs {
  /** The SQLite file; with Postgres, its URL without the password (a label: the URL itself is `databaseUrl`). */
  dbPath: string;
  publicHost: string;
  port: number;
  /** Kiln's Postgres, from KILN_DATABASE_URL in this process's environment (never argv); absent: SQLite at dbPath. */
  databaseUrl?: string;
  /** The path whose removal stops it (`--watch`; default dbPath): with Postgres, Kiln's data dir. */
  watch: string;
}

export const LISTENING = "listening ";
const DB_CHECK_MS = 5000;

export async function runTenantResolver(args: ResolverArgs): Promise<number> {
  const reader = args.databaseUrl ? new PostgresEndpointReader(args.databaseUrl) : new SqliteEndpointReader(args.dbPath);
  const server = await startDnsServer({
    hostname: "127.0.0.1",
    port: args.port,
    answerer: new TenantResolver(reader, args.publicHost),
    onError: (err) => console.error(`kiln tenant-resolver: ${err instanceof Error ? err.message : String(err)}`),
  });
  process.stdout.write(`${LISTENING}${server.address}\n`);
  const done = Promise.withResolvers<void>();
  const timer = setInterval(() => {
    if (!existsSync(args.watch)) done.resolve();
  }, DB_CHECK_MS);
  process.once("SIGTERM", () => done.resolve());
  process.once("SIGINT", () => done.resolve());
  await done.promise;
  clearInterval(timer);
  server.stop();
  await reader.close();
  return 0;
}

/** `kiln tenant-resolver ARGS`: exit 0 after a clean stop, 2 on bad arguments (it is started by kiln serve). */
export async function resolverMain(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let args: ResolverArgs;
  try {
    args = parseResolverArgs(argv, env);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  try {
    return await runTenantResolver(args);
  } catch (err) {
    console.error(`kiln tenant-resolver: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * `--db PATH --public-host HOST --port N`, all required, and `--watch PATH`. A `--db` that is a
 * postgres:// label means Postgres: the URL itself must be in `env` as KILN_DATABASE_URL.
 */
export function parseResolverArgs(argv: string[], env: Record<string, string | undefined> = {}): ResolverArgs {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`kiln tenant-resolver: ${flag} is required (it is started by kiln serve)`);
    return v;
  };
  const port = Number(get("--port"));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`kiln tenant-resolver: --port must be 0–65535`);
  const dbPath = get("--db");
  const watch = argv.includes("--watch") ? get("--watch") : dbPath;
  if (!/^postgres(ql)?:\/\//.test(dbPath)) return { dbPath, publicHost: get("--public-host"), port, watch };
  const databaseUrl = env.KILN_DATABASE_URL;
  if (!databaseUrl) throw new Error("kiln tenant-resolver: --db names a Postgres database, so KILN_DATABASE_URL must be in its environment");
  return { dbPath, publicHost: get("--public-host"), port, watch, databaseUrl };
}

/**
 * The tenant resolver process (`kiln tenant-resolver`, started by `kiln serve`): answers Caddy's
 * lookups of where each tenant's requests go, reading Kiln's database read-only. It is kept apart
 * from the control plane for the same reason Caddy is: tenants' URLs keep answering while Kiln
 * restarts or after it crashed, and the next Kiln adopts it (src/routing/resolver-process.ts).
 *
 * Prints one line, `listening <host:port>`, once it answers; then writes nothing more to stdout.
 * Exits on SIGTERM/SIGINT, and by itself once the database file is gone (its data dir was removed).
 */
import { existsSync } from "node:fs";
import { SqliteEndpointReader } from "../adapters/store/sqlite-endpoints.ts";
import { startDnsServer } from "../adapters/dns/server.ts";
import { TenantResolver } from "./tenant-resolver.ts";

export interface ResolverArgs {
  dbPath: string;
  publicHost: string;
  port: number;
}

export const LISTENING = "listening ";
const DB_CHECK_MS = 5000;

export async function runTenantResolver(args: ResolverArgs): Promise<number> {
  const reader = new SqliteEndpointReader(args.dbPath);
  const server = await startDnsServer({
    hostname: "127.0.0.1",
    port: args.port,
    answerer: new TenantResolver(reader, args.publicHost),
    onError: (err) => console.error(`kiln tenant-resolver: ${err instanceof Error ? err.message : String(err)}`),
  });
  process.stdout.write(`${LISTENING}${server.address}\n`);
  const done = Promise.withResolvers<void>();
  const timer = setInterval(() => {
    if (!existsSync(args.dbPath)) done.resolve();
  }, DB_CHECK_MS);
  process.once("SIGTERM", () => done.resolve());
  process.once("SIGINT", () => done.resolve());
  await done.promise;
  clearInterval(timer);
  server.stop();
  reader.close();
  return 0;
}

/** `--db PATH --public-host HOST --port N`, all required. */
export function parseResolverArgs(argv: string[]): ResolverArgs {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`kiln tenant-resolver: ${flag} is required (it is started by kiln serve)`);
    return v;
  };
  const port = Number(get("--port"));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`kiln tenant-resolver: --port must be 0–65535`);
  return { dbPath: get("--db"), publicHost: get("--public-host"), port };
}

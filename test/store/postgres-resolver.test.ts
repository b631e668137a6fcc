/**
 * With KILN_DATABASE_URL, the tenant resolver process (`kiln tenant-resolver`, started as Kiln starts
 * it) reads Postgres: a tenant claimed in the shared database answers over DNS, and the database's
 * password reaches the process only through its environment — not its argv, state file or log.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../../src/adapters/store/postgres.ts";
import { redactDatabaseUrl } from "../../src/adapters/store/postgres-sql.ts";
import { childEnvOf } from "../../src/config.ts";
import { Secret } from "../../src/core/secret.ts";
import { TenantResolverProcess } from "../../src/routing/resolver-process.ts";
import { startPostgres } from "../helpers/postgres.ts";
import { member } from "./contract.ts";

const pg = startPostgres();
afterAll(async () => (await pg).stop());

test("the tenant resolver answers from Postgres, and gets the password only through its environment", async () => {
  const url = await (await pg).createDatabase();
  const password = new URL(url).password;
  expect(password.length).toBeGreaterThan(8);
  const store = await PostgresStore.open(url);
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-pg-resolver-"));
  const logs: string[] = [];
  const resolver = new TenantResolverProcess({
    dataDir,
    dbPath: redactDatabaseUrl(url),
    databaseUrl: new Secret(url),
    publicHost: "kiln.localhost",
    port: 0,
    env: childEnvOf(process.env),
    onMoved: () => {},
    log: (line) => logs.push(line),
  });
  try {
    const address = await resolver.start();
    const client = new Resolver({ timeout: 2000, tries: 1 });
    client.setServers([address]);
    await expect(client.resolveSrv("a.echo.kiln.localhost")).rejects.toMatchObject({ code: "ENOTFOUND" });

    await store.pools.insertMember(member("m1", { workloadId: "echo", endpoint: "127.0.0.1:40123" }));
    expect((await store.pools.takeReady("echo", "h1", "a", 5, "test-node"))?.id).toBe("m1");
    await store.pools.putTenant({ tenantId: "a", workloadId: "echo", memberId: "m1", status: "claimed", lastSync: null, claimedAt: 6, releasedAt: null, updatedAt: 6 });
    expect(await client.resolveSrv("a.echo.kiln.localhost")).toEqual([{ name: "127-0-0-1.ip.kiln", port: 40123, priority: 0, weight: 0 }]);

    const state = readFileSync(join(dataDir, "tenant-resolver.json"), "utf8");
    const pid = (JSON.parse(state) as { pid: number }).pid;
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    expect(argv).toContain("--db");
    expect(argv[argv.indexOf("--db") + 1]).toBe(redactDatabaseUrl(url));
    expect(argv[argv.indexOf("--watch") + 1]).toBe(dataDir);
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    expect(env).toContain(`KILN_DATABASE_URL=${url}`);
    for (const text of [argv.join(" "), state, readFileSync(join(dataDir, "tenant-resolver.log"), "utf8"), logs.join("\n")]) expect(text).not.toContain(password);
  } finally {
    await resolver.stop();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

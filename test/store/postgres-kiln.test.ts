/**
 * A whole Kiln on Postgres (KILN_DATABASE_URL), against the real Docker engine and Caddy: it
 * deploys a static site that answers through Caddy, every record of it (deployment, build,
 * release, log lines) is in the Postgres database, and no SQLite file is made.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PostgresStore } from "../../src/adapters/store/postgres.ts";
import { startPostgres } from "../helpers/postgres.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const pg = startPostgres();
let kiln: TestKiln | undefined;
afterAll(async () => {
  await kiln?.stop();
  await (await pg).stop();
});

test("a Kiln on Postgres deploys an app and keeps all it knows in that database, not in SQLite", async () => {
  const url = await (await pg).createDatabase();
  kiln = await startTestKiln({ KILN_DATABASE_URL: url });
  const res = await kiln.api("/deployments/upload?name=pg-static", { method: "POST", body: await tarOf(join(import.meta.dir, "../fixtures/apps/static"), true) });
  expect(res.status).toBe(202);
  const dep = (await res.json()) as { id: string };
  const done = await kiln.waitFor(dep.id, ["running", "failed"]);
  expect(done.status).toBe("running");
  const page = await kiln.viaSubdomain("pg-static");
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("hello from a static site");

  const reader = await PostgresStore.open(url, { max: 1 });
  try {
    const stored = await reader.deployments.get(dep.id);
    expect(stored).toMatchObject({ name: "pg-static", status: "running" });
    expect((await reader.builds.listFor(dep.id)).map((b) => b.status)).toEqual(["succeeded"]);
    expect((await reader.releases.listFor(dep.id)).length).toBe(1);
    expect(await reader.logs.lastSeq(dep.id)).toBeGreaterThan(0);
  } finally {
    await reader.close();
  }
  expect(existsSync(join(kiln.config.dataDir, "kiln.db"))).toBe(false);
});

/** Postgres for one test file (see ./postgres.ts): kept apart so benches can import that one without bun:test. */
import { afterAll, beforeAll } from "bun:test";
import { PostgresStore } from "../../src/adapters/store/postgres.ts";
import { startPostgres, type TestPostgres } from "./postgres.ts";

/**
 * A throwaway cluster and one database for the calling test file: started before its tests (with
 * Kiln's schema applied when `schema`), stopped after them. Read `url()` inside tests.
 */
export function usePostgres(opts: { schema?: boolean } = {}): { url: () => string; server: () => TestPostgres } {
  let pg: TestPostgres | null = null;
  let url = "";
  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    if (opts.schema) await (await PostgresStore.open(url)).close();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  }, 60_000);
  return {
    url: () => url,
    server: () => {
      if (!pg) throw new Error("usePostgres: the cluster is not started yet (read it inside a test)");
      return pg;
    },
  };
}

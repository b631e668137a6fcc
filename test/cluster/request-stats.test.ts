/**
 * Each Kiln's request totals in the store (src/cluster/request-stats.ts), on a real Postgres: rows
 * of several Kilns read back for one app, oldest first, with their histograms; each Kiln deletes
 * its own rows past the hour, and anyone's long past it (a Kiln gone for good).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { ClusterRequestStats } from "../../src/cluster/request-stats.ts";
import { LatencyHistogram } from "../../src/stats/latency-histogram.ts";
import type { RequestTotals } from "../../src/stats/request-window.ts";
import { noStatus } from "../../src/stats/sample.ts";
import { usePostgres } from "../helpers/use-postgres.ts";

const pg = usePostgres({ schema: true });
let db: SQL;
beforeAll(() => {
  db = new SQL(pg.url(), { max: 2 });
});
afterAll(async () => {
  await db?.close();
});

const totals = (count: number, ms: number): RequestTotals => {
  const latency = new LatencyHistogram();
  for (let i = 0; i < count; i++) latency.add(ms);
  return { count, status: { ...noStatus(), "2xx": count }, latency };
};
const HOUR = 3600_000;

test("rows of every Kiln for one app, oldest first; old rows go", async () => {
  const a = new ClusterRequestStats(db, "kiln-a");
  const b = new ClusterRequestStats(db, "kiln-b");
  const t0 = 10 * HOUR;
  await a.record(t0, new Map([["dep1", totals(3, 5)], ["dep2", totals(1, 5)], ["dep3", totals(0, 5)]]));
  await b.record(t0 + 4000, new Map([["dep1", totals(2, 50)]]));
  const rows = await a.rows("dep1", 0);
  expect(rows.map((r) => [r.ts, r.count, r.status["2xx"], r.latency.count])).toEqual([
    [t0, 3, 3, 3],
    [t0 + 4000, 2, 2, 2],
  ]);
  expect(rows[1]!.latency.quantile(0.5)).toBeGreaterThan(45);
  expect(await a.rows("dep3", 0)).toEqual([]); // an interval without requests is not written
  expect((await a.rows("dep1", t0)).map((r) => r.ts)).toEqual([t0 + 4000]);

  // An hour and more later, A's own old rows go; B's stay until long past the hour (B may be alive).
  await a.record(t0 + HOUR + 20_000, new Map([["dep1", totals(1, 5)]]));
  expect((await a.rows("dep1", 0)).map((r) => r.ts)).toEqual([t0 + 4000, t0 + HOUR + 20_000]);
  // Long past: B's too.
  await a.record(t0 + 3 * HOUR, new Map());
  expect((await a.rows("dep1", 0)).map((r) => r.ts)).toEqual([]);
});

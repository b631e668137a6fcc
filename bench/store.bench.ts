/**
 * The store under Kiln's two hot paths, SQLite beside Postgres in the same run (a throwaway
 * cluster from test/helpers/postgres.ts, or KILN_TEST_DATABASE_URL):
 *   - claims: `takeReady` (the one-statement claim) of a pool's ready members by C concurrent
 *     callers, then the tenant row written, as Tenants.claim does — claims/s;
 *   - log writes: lines through the LogBus into the store (256-line zstd chunks, as Kiln writes
 *     them) — lines/s from the first publish to the last chunk stored.
 * Printed with the ratio Postgres / SQLite. Bounded: N members and L lines per store.
 *
 *   bun bench/store.bench.ts [--members 5000] [--concurrency 16] [--lines 1000000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../src/adapters/store/postgres.ts";
import { SqliteStore } from "../src/adapters/store/sqlite.ts";
import type { Store } from "../src/core/ports/store.ts";
import { LogBus } from "../src/logs/bus.ts";
import { startPostgres } from "../test/helpers/postgres.ts";
import { member } from "../test/store/contract.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MEMBERS = arg("members", 5000);
const CONCURRENCY = arg("concurrency", 16);
const LINES = arg("lines", 1_000_000);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function claims(store: Store): Promise<number> {
  for (let i = 0; i < MEMBERS; i++) await store.pools.insertMember(member(`m${i}`, { readyAt: i, containerId: `c${i}` }));
  let next = 0;
  let taken = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const tenant = `t${next++}`;
        const m = await store.pools.takeReady("w", "h1", tenant, Date.now());
        if (!m) return;
        const now = Date.now();
        await store.pools.putTenant({ tenantId: tenant, workloadId: "w", memberId: m.id, status: "claimed", lastSync: null, claimedAt: now, releasedAt: null, updatedAt: now });
        taken++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (taken !== MEMBERS) throw new Error(`claimed ${taken} of ${MEMBERS}`);
  return MEMBERS / seconds;
}

async function logWrites(store: Store): Promise<number> {
  const bus = new LogBus({ store: store.logs });
  await bus.open("bench");
  const pad = "x".repeat(80);
  const started = performance.now();
  for (let i = 0; i < LINES; i++) {
    bus.publish("bench", "runtime", `${String(i).padStart(9, "0")} GET /items/${i % 977} 200 ${pad}`);
    if (i % 5000 === 0) await Bun.sleep(0); // let the writer run, as the event loop does in Kiln
  }
  await bus.close();
  const seconds = (performance.now() - started) / 1000;
  if ((await store.logs.lastSeq("bench")) !== LINES) throw new Error("not every line was stored");
  return LINES / seconds;
}

const dir = mkdtempSync(join(tmpdir(), "kiln-store-bench-"));
const pg = await startPostgres();
try {
  const results: Record<string, { claims: number; lines: number }> = {};
  for (const kind of ["sqlite", "postgres"] as const) {
    const open = async () => (kind === "sqlite" ? SqliteStore.open(join(dir, `${kind}-${crypto.randomUUID()}.db`)) : PostgresStore.open(await pg.createDatabase()));
    const a = await open();
    const c = await claims(a);
    await a.close();
    const b = await open();
    const l = await logWrites(b);
    await b.close();
    results[kind] = { claims: c, lines: l };
  }
  const s = results.sqlite!;
  const p = results.postgres!;
  console.log(`store bench: ${fmt(MEMBERS)} claims by ${CONCURRENCY} concurrent callers; ${fmt(LINES)} log lines through the bus`);
  console.log(`  claims/s      sqlite ${fmt(s.claims).padStart(9)}   postgres ${fmt(p.claims).padStart(9)}   postgres/sqlite ${(p.claims / s.claims).toFixed(2)}×`);
  console.log(`  log lines/s   sqlite ${fmt(s.lines).padStart(9)}   postgres ${fmt(p.lines).padStart(9)}   postgres/sqlite ${(p.lines / s.lines).toFixed(2)}×`);
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { migrations, pendingMigrations, schemaMigrationsTableSql } from "../../src/adapters/store/migrations.ts";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import { build, deployment, lines, storeContract } from "./contract.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db-${++n}`, "kiln.db");

storeContract("sqlite file", async () => SqliteStore.open(freshPath()));
storeContract("sqlite :memory:", async () => SqliteStore.open(":memory:"));

describe("SqliteStore", () => {
  // Foreign keys are checked by the contract (cascade, not_found for a build of a missing deployment).
  test("opens the file in WAL mode, creating its folder", async () => {
    const path = freshPath();
    const store = SqliteStore.open(path);
    const db = new Database(path);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    db.close();
    await store.close();
  });

  test("migrations are recorded once and reopening applies nothing again", async () => {
    const path = freshPath();
    await SqliteStore.open(path).close();
    await SqliteStore.open(path).close();
    const db = new Database(path);
    const applied = db.query<{ id: number; name: string }, []>("SELECT id, name FROM schema_migrations ORDER BY id").all();
    db.close();
    expect(applied).toEqual(migrations.map((m) => ({ id: m.id, name: m.name })));
  });

  test("migration 12: members made before nodes read back with node \"\", are taken by no node until adopted, and takes use the node index", async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const old = new Database(path, { create: true });
    old.exec(schemaMigrationsTableSql);
    for (const m of migrations.filter((m) => m.id < 12)) {
      old.exec(m.sql);
      old.query("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(m.id, m.name, 1);
    }
    // A ready member as migration 2 wrote it: no node column yet.
    old.query("INSERT INTO pool_members (id, workload_id, spec_hash, container_id, status, created_at, ready_at) VALUES ('m1', 'w', 'h1', 'c-m1', 'ready', 1, 1)").run();
    old.close();

    const store = SqliteStore.open(path);
    expect(await store.pools.getMember("m1")).toMatchObject({ id: "m1", node: "", status: "ready" });
    expect(await store.pools.takeReady("w", "h1", "t", 5, "node-a")).toBeNull();
    expect(await store.pools.adoptMembers("node-a")).toBe(1);
    expect(await store.pools.takeReady("w", "h1", "t", 5, "node-a")).toMatchObject({ id: "m1", node: "node-a", status: "claimed" });

    const db = new Database(path);
    const plan = db
      .query<{ detail: string }, []>("EXPLAIN QUERY PLAN SELECT id FROM pool_members WHERE workload_id = 'w' AND node = 'n' AND spec_hash = 'h' AND status = 'ready' ORDER BY ready_at, id LIMIT 1")
      .all()
      .map((r) => r.detail)
      .join("\n");
    db.close();
    expect(plan).toContain("pool_members_ready_on_node");
    await store.close();
  });

  test("data survives closing and reopening", async () => {
    const path = freshPath();
    const first = SqliteStore.open(path);
    const d = deployment({ id: "dep-a", name: "alpha" });
    const b = build({ id: "b-1", deploymentId: "dep-a", number: 1, steps: [{ name: "source", startedAt: 1, durationMs: 2, ok: true }] });
    await first.deployments.insert(d);
    await first.builds.insert(b);
    await first.logs.appendChunk("dep-a", lines(1, 10));
    await first.secrets.put("deployment/dep-a/env", "secret");
    await first.close();

    const second = SqliteStore.open(path);
    expect(await second.deployments.get("dep-a")).toEqual(d);
    expect(await second.builds.get("b-1")).toEqual(b);
    expect(await second.logs.read("dep-a", 1, 100)).toEqual(lines(1, 10));
    expect(await second.secrets.get("deployment/dep-a/env")).toBe("secret");
    expect(await second.builds.nextNumber("dep-a")).toBe(2);
    await second.close();
  });

  test("close is idempotent", async () => {
    const store = SqliteStore.open(":memory:");
    await store.close();
    await store.close();
  });
});

describe("pendingMigrations", () => {
  test("returns the unapplied ones in order", () => {
    const list = [
      { id: 1, name: "a", sql: "" },
      { id: 2, name: "b", sql: "" },
      { id: 3, name: "c", sql: "" },
    ];
    expect(pendingMigrations(list, new Set([1])).map((m) => m.id)).toEqual([2, 3]);
    expect(pendingMigrations(list, new Set([1, 2, 3]))).toEqual([]);
  });

  test("rejects ids out of order or repeated", () => {
    expect(() => pendingMigrations([{ id: 2, name: "b", sql: "" }, { id: 1, name: "a", sql: "" }], new Set())).toThrow(
      /increasing/,
    );
    expect(() => pendingMigrations([{ id: 1, name: "a", sql: "" }, { id: 1, name: "b", sql: "" }], new Set())).toThrow();
  });
});

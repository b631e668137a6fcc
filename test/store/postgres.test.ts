/**
 * PostgresStore against a real PostgreSQL (test/helpers/postgres.ts starts a throwaway cluster, or
 * uses KILN_TEST_DATABASE_URL): the store contract unchanged, a fresh database per test; then what
 * only a shared database shows — two stores (two Kilns) racing for claims, status moves and
 * migrations — and the log search, retention and offload answering exactly as SQLite does.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { randomBytes } from "node:crypto";
import { SecretBox } from "../../src/adapters/crypto/secret-box.ts";
import { withEncryptedSecrets } from "../../src/adapters/store/encrypted-secrets.ts";
import { migrations, schemaMigrationsTableSql } from "../../src/adapters/store/migrations.ts";
import { PostgresStore } from "../../src/adapters/store/postgres.ts";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import { KilnError } from "../../src/core/errors.ts";
import { IllegalMove } from "../../src/core/lifecycle.ts";
import type { LogLine, LogStream } from "../../src/core/logs.ts";
import type { StoredChunk } from "../../src/core/ports/store.ts";
import { startPostgres } from "../helpers/postgres.ts";
import { freePort } from "../helpers/ports.ts";
import { build, deployment, lines, member, storeContract } from "./contract.ts";

const pg = startPostgres();
afterAll(async () => (await pg).stop());
const freshUrl = async () => (await pg).createDatabase();

storeContract("postgres", async () => PostgresStore.open(await freshUrl()));

describe("PostgresStore on one database shared by two Kilns", () => {
  test("50 concurrent claims of 20 ready members over 2 stores: each member goes to exactly one tenant", async () => {
    const url = await freshUrl();
    const a = await PostgresStore.open(url, { max: 5 });
    const b = await PostgresStore.open(url, { max: 5 });
    for (let i = 0; i < 20; i++) await a.pools.insertMember(member(`m${String(i).padStart(2, "0")}`, { readyAt: i }));
    await a.pools.insertMember(member("other-spec", { specHash: "h2" }));

    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).pools.takeReady("w", "h1", `t${i}`, 1000 + i, "test-node")));
    const taken = claims.flatMap((m, i) => (m ? [{ id: m.id, tenant: `t${i}`, got: m }] : []));
    expect(taken.length).toBe(20);
    expect(new Set(taken.map((t) => t.id)).size).toBe(20);
    for (const t of taken) {
      expect(t.got).toMatchObject({ status: "claimed", tenantId: t.tenant });
      expect(await b.pools.getMember(t.id)).toMatchObject({ status: "claimed", tenantId: t.tenant }); // the store agrees with what the claimer was told
    }
    expect((await a.pools.getMember("other-spec"))?.status).toBe("ready");
    expect(await b.pools.takeReady("w", "h1", "late", 2000, "test-node")).toBeNull();
    await a.close();
    await b.close();
  });

  test("a tenant can't hold two members of one workload (the unique index), whichever Kiln asks", async () => {
    const url = await freshUrl();
    const a = await PostgresStore.open(url, { max: 2 });
    const b = await PostgresStore.open(url, { max: 2 });
    await a.pools.insertMember(member("m1", { status: "claimed", tenantId: "t" }));
    await a.pools.insertMember(member("m2"));
    await expect(b.pools.updateMember("m2", { status: "claimed", tenantId: "t" })).rejects.toThrow(/already holds/);
    expect((await a.pools.getMember("m2"))?.status).toBe("ready");
    await a.close();
    await b.close();
  });

  test("a status move raced by two stores happens once; the others are refused", async () => {
    const url = await freshUrl();
    const a = await PostgresStore.open(url, { max: 4 });
    const b = await PostgresStore.open(url, { max: 4 });
    await a.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).deployments.update("dep-a", { status: "building" }, `racer ${i}`)));
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(IllegalMove);
    expect((await b.deployments.get("dep-a"))?.status).toBe("building");
    await a.close();
    await b.close();
  });

  test("Kilns opening one new database at once apply each migration once", async () => {
    const url = await freshUrl();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url, { max: 2 })));
    await Promise.all(stores.map((s) => s.close()));
    await (await PostgresStore.open(url)).close();
    const sql = new SQL(url, { max: 1 });
    const applied = [...(await sql`SELECT id, name FROM schema_migrations ORDER BY id`)];
    const chunkBody = [...(await sql`SELECT data_type FROM information_schema.columns WHERE table_name = 'log_chunks' AND column_name = 'lines'`)];
    await sql.close();
    expect(applied).toEqual(migrations.map((m) => ({ id: m.id, name: m.name })));
    expect(chunkBody).toEqual([{ data_type: "bytea" }]);
  });

  test("migration 12: members made before nodes read back with node \"\" and are taken by no node until adopted", async () => {
    const url = await freshUrl();
    const sql = new SQL(url, { max: 1 });
    await sql.unsafe(schemaMigrationsTableSql);
    for (const m of migrations.filter((m) => m.id < 12)) {
      await sql.unsafe(m.postgres ?? m.sql);
      await sql`INSERT INTO schema_migrations (id, name, applied_at) VALUES (${m.id}, ${m.name}, 1)`;
    }
    // A ready member as migration 2 wrote it: no node column yet.
    await sql`INSERT INTO pool_members (id, workload_id, spec_hash, container_id, status, created_at, ready_at) VALUES ('m1', 'w', 'h1', 'c-m1', 'ready', 1, 1)`;
    await sql.close();

    const store = await PostgresStore.open(url);
    expect(await store.pools.getMember("m1")).toMatchObject({ id: "m1", node: "", status: "ready" });
    expect(await store.pools.takeReady("w", "h1", "t", 5, "node-a")).toBeNull();
    expect(await store.pools.adoptMembers("node-a")).toBe(1);
    expect(await store.pools.takeReady("w", "h1", "t", 5, "node-a")).toMatchObject({ id: "m1", node: "node-a", status: "claimed" });
    await store.close();
  });

  test("data survives closing and reopening", async () => {
    const url = await freshUrl();
    const first = await PostgresStore.open(url);
    const d = deployment({ id: "dep-a", name: "alpha" });
    const b = build({ id: "b-1", deploymentId: "dep-a", number: 1, createdAt: 1_764_600_000_000 });
    await first.deployments.insert(d);
    await first.builds.insert(b);
    await first.logs.appendChunk("dep-a", lines(1, 10), [{ container: "c1", output: "stdout", ns: 1_764_600_000_123_456_789n, count: 3 }]);
    await first.secrets.put("deployment/dep-a/env", "secret");
    await first.close();

    const second = await PostgresStore.open(url);
    expect(await second.deployments.get("dep-a")).toEqual(d);
    expect(await second.builds.get("b-1")).toEqual(b);
    expect(await second.logs.read("dep-a", 1, 100)).toEqual(lines(1, 10));
    const marks = await second.logs.sourceMarks("c1");
    expect(marks.marks).toEqual([{ container: "c1", output: "stdout", ns: 1_764_600_000_123_456_789n, count: 3 }]);
    expect(marks.keptSince).toBeGreaterThan(0);
    expect(await second.secrets.get("deployment/dep-a/env")).toBe("secret");
    await second.close();
    await second.close(); // idempotent
  });

  test("secrets sealed through the wrapper: the Postgres row never holds the value; reopened, it reads back", async () => {
    const url = await freshUrl();
    const box = new SecretBox(randomBytes(32));
    const value = '{"DATABASE_URL":"postgres://u:Zebra-Quokka-7731@db/app"}';
    const first = withEncryptedSecrets(await PostgresStore.open(url), box);
    await first.secrets.put("deployment/d1/env", value);
    expect(await first.logTiers.streamsWithSegments()).toEqual([]); // the wrapper passes every other member through
    await first.close();
    const sql = new SQL(url, { max: 1 });
    const stored = [...(await sql`SELECT value FROM secrets`)] as Array<{ value: string }>;
    await sql.close();
    expect(stored.length).toBe(1);
    expect(stored[0]!.value).not.toContain("Zebra-Quokka-7731");
    const second = withEncryptedSecrets(await PostgresStore.open(url), box);
    expect(await second.secrets.get("deployment/d1/env")).toBe(value);
    await second.close();
  });

  test("a server that does not answer, or refuses the password, is an error naming the database without its password", async () => {
    const password = "Sup3r-s3cret-pw";
    const down = `postgres://kiln:${password}@127.0.0.1:${freePort()}/kiln`;
    const err1 = await PostgresStore.open(down).then(() => null, (e: unknown) => e);
    expect(err1).toBeInstanceOf(KilnError);
    expect((err1 as KilnError).kind).toBe("unavailable");
    expect((err1 as KilnError).message).toContain("postgres://kiln:***@127.0.0.1");
    expect(JSON.stringify({ m: (err1 as Error).message, h: (err1 as KilnError).hint })).not.toContain(password);

    const real = new URL((await pg).url);
    real.password = password;
    const err2 = await PostgresStore.open(real.toString()).then(() => null, (e: unknown) => e);
    expect(err2).toBeInstanceOf(KilnError);
    expect((err2 as Error).message).not.toContain(password);
    expect((err2 as Error).message).toContain("***");
  });
});

describe("PostgresStore logs answer as SqliteStore's do", () => {
  const kinds: LogStream[] = ["build", "runtime", "system"];
  const logLines = (first: number, last: number): LogLine[] =>
    Array.from({ length: last - first + 1 }, (_, i) => {
      const seq = first + i;
      return { seq, ts: seq * 1000, stream: kinds[seq % 3]!, text: seq % 10 === 0 ? `Request ${seq} ERROR: boom` : `request ${seq} ok ünï` };
    });

  /** The same history in both stores: 300 chunks of 1–9 lines (more than one page of chunks). */
  async function both(): Promise<[SqliteStore, PostgresStore]> {
    const lite = SqliteStore.open(":memory:");
    const post = await PostgresStore.open(await freshUrl());
    let seq = 1;
    for (let c = 0; c < 300; c++) {
      const n = (c % 9) + 1;
      for (const s of [lite, post]) await s.logs.appendChunk("dep-a", logLines(seq, seq + n - 1));
      seq += n;
    }
    for (const s of [lite, post]) await s.logs.appendChunk("dep-b", logLines(1, 5));
    return [lite, post];
  }

  test("read, search (text, streams, time, seq bounds, paging, scan budget) and usage", async () => {
    const [lite, post] = await both();
    expect(await post.logs.read("dep-a", 1, 5000)).toEqual(await lite.logs.read("dep-a", 1, 5000));
    expect(await post.logs.read("dep-a", 777, 1000)).toEqual(await lite.logs.read("dep-a", 777, 1000));
    expect(await post.logs.lastSeq("dep-a")).toBe(await lite.logs.lastSeq("dep-a"));
    const queries = [
      { text: "error", limit: 25 },
      { text: "ÜNÏ", limit: 700 },
      { streams: ["build" as const, "system" as const], limit: 40, sinceTs: 200_000, untilTs: 900_000 },
      { text: "request 1", limit: 10, before: 1000 },
      { sinceSeq: 50, untilSeq: 60, limit: 100 },
      { text: "nothing like this", limit: 10, scanBudget: 400 },
      { limit: 5000 },
    ];
    for (const q of queries) {
      let before: number | undefined;
      for (let page = 0; page < 5; page++) {
        const query = { ...q, ...(before !== undefined ? { before } : {}) };
        const want = await lite.logs.search("dep-a", query);
        expect(await post.logs.search("dep-a", query)).toEqual(want);
        if (want.next === null) break;
        before = want.next;
      }
    }
    expect(await post.logs.usage()).toEqual(await lite.logs.usage());
    await lite.close();
    await post.close();
  });

  test("prune by age and size, and offload's cold chunks, segments and storage", async () => {
    const [lite, post] = await both();
    expect(await post.logs.prune("dep-a", { before: 50_000, maxBytes: 1e12 })).toEqual(await lite.logs.prune("dep-a", { before: 50_000, maxBytes: 1e12 }));
    const asText = (cs: StoredChunk[]) => cs.map((c) => ({ ...c, body: Buffer.from(c.body).toString("base64") }));
    const bounded = await lite.logTiers.coldChunks("dep-a", 600_000, 4000);
    expect(asText(await post.logTiers.coldChunks("dep-a", 600_000, 4000))).toEqual(asText(bounded));
    const cold = await lite.logTiers.coldChunks("dep-a", 600_000, 1e9);
    expect(asText(await post.logTiers.coldChunks("dep-a", 600_000, 1e9))).toEqual(asText(cold));
    expect(cold.length).toBeGreaterThan(64); // more than one page of chunks
    expect(bounded.length).toBeLessThan(cold.length);
    const first = cold[0]!;
    const last = cold[cold.length - 1]!;
    const segment = {
      stream: "dep-a",
      firstSeq: first.firstSeq,
      lastSeq: last.lastSeq,
      firstTs: first.minTs,
      lastTs: last.maxTs,
      lines: last.lastSeq - first.firstSeq + 1,
      bytes: 1234,
      key: "dep-a/seg-1",
      createdAt: 1_764_600_000_000,
    };
    expect(await post.logTiers.commitSegment({ ...segment, lines: segment.lines + 1 })).toBe(false); // not what was packed
    for (const s of [lite, post]) expect(await s.logTiers.commitSegment(segment)).toBe(true);
    expect(await post.logTiers.segments("dep-a")).toEqual(await lite.logTiers.segments("dep-a"));
    expect(await post.logTiers.segmentFrom("dep-a", 1)).toEqual(await lite.logTiers.segmentFrom("dep-a", 1));
    expect(await post.logTiers.segmentsWithin("dep-a", { lower: 1, upper: 10_000, sinceTs: 0, untilTs: 1e12 })).toEqual([segment]);
    expect(await post.logTiers.streamsWithSegments()).toEqual(["dep-a"]);
    expect(await post.logTiers.firstHotSeq("dep-a")).toBe(await lite.logTiers.firstHotSeq("dep-a"));
    expect(await post.logTiers.storage("dep-a")).toEqual(await lite.logTiers.storage("dep-a"));
    const bySize = { before: 0, maxBytes: 2000 };
    expect(await post.logs.prune("dep-a", bySize)).toEqual(await lite.logs.prune("dep-a", bySize));
    expect(await post.logs.read("dep-a", 1, 5000)).toEqual(await lite.logs.read("dep-a", 1, 5000));
    await post.logTiers.removeSegment("dep-a", segment.firstSeq);
    expect(await post.logTiers.segments("dep-a")).toEqual([]);
    await lite.close();
    await post.close();
  });
});

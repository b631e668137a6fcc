import { Database } from "bun:sqlite";
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine, LogStream } from "../../core/logs.ts";
import { encodeLines } from "./rows.ts";
import { SqliteStore } from "./sqlite.ts";
import { packLines } from "./log-codec.ts";
import { READ_SQL, searchSql } from "./sqlite-logs.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kinds: LogStream[] = ["build", "runtime", "system"];
/** Lines first..last; ts = seq * 1000; every 10th says "ERROR". */
function lines(first: number, last: number): LogLine[] {
  const out: LogLine[] = [];
  for (let seq = first; seq <= last; seq++) {
    out.push({ seq, ts: seq * 1000, stream: kinds[seq % 3]!, text: seq % 10 === 0 ? `Request ${seq} ERROR: boom` : `request ${seq} ok` });
  }
  return out;
}
const seqs = (ls: LogLine[]) => ls.map((l) => l.seq);

/** A typical web app log: timestamps, paths, status codes, durations, ids. */
function typicalText(i: number): string {
  const paths = ["/api/items", "/api/users/login", "/healthz", "/static/app.js", "/api/orders"];
  return `2026-12-01T22:${String(i % 60).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}.${i % 1000}Z INFO  [http] GET ${paths[i % 5]}/${(i * 7919) % 10000} ${i % 13 ? 200 : 404} ${i % 50}ms req_id=${((i * 2654435761) >>> 0).toString(16)}`;
}

describe("compressed chunks", () => {
  test("typical log text is stored several times smaller than its JSON", () => {
    const chunk: LogLine[] = [];
    for (let i = 1; i <= 256; i++) chunk.push({ seq: i, ts: 1_764_600_000_000 + i * 13, stream: "runtime", text: typicalText(i) });
    const raw = Buffer.byteLength(encodeLines(chunk));
    const packed = packLines(chunk).body.byteLength;
    console.log(`log chunk: ${raw} B JSON -> ${packed} B zstd (ratio ${(raw / packed).toFixed(1)})`);
    expect(raw / packed).toBeGreaterThan(4);
  });

  test("chunks written before compression still read, and are compressed at the next open", async () => {
    const path = join(dir, "old.db");
    const store = SqliteStore.open(path);
    const db = new Database(path);
    // A row as migration 7 wrote it: plain JSON text, no codec, span or size.
    db.query("INSERT INTO log_chunks (stream, first_seq, last_seq, lines) VALUES (?, ?, ?, ?)").run("dep-a", 1, 20, encodeLines(lines(1, 20)));
    await store.logs.appendChunk("dep-a", lines(21, 30));
    expect(await store.logs.read("dep-a", 1, 100)).toEqual(lines(1, 30));
    expect(seqs((await store.logs.search("dep-a", { text: "error", limit: 10 })).lines)).toEqual([30, 20, 10]);
    await store.close();

    const reopened = SqliteStore.open(path);
    const row = db.query<{ codec: string; min_ts: number; max_ts: number; kinds: string; bytes: number }, []>(
      "SELECT codec, min_ts, max_ts, kinds, bytes FROM log_chunks WHERE first_seq = 1",
    ).get();
    expect(row).toEqual({ codec: "zstd", min_ts: 1000, max_ts: 20_000, kinds: ",build,runtime,system,", bytes: expect.any(Number) });
    expect(await reopened.logs.read("dep-a", 1, 100)).toEqual(lines(1, 30));
    db.close();
    await reopened.close();
  });
});

describe("search", () => {
  let store: SqliteStore;
  beforeEach(async () => {
    store = SqliteStore.open(":memory:");
    // Chunks of 25: [1–25] … [176–200].
    for (let first = 1; first <= 200; first += 25) await store.logs.appendChunk("dep-a", lines(first, first + 24));
    await store.logs.appendChunk("dep-b", lines(1, 50));
  });

  test("text matches case-insensitively, newest first, within the stream", async () => {
    const page = await store.logs.search("dep-a", { text: "error: BOOM", limit: 100 });
    expect(seqs(page.lines)).toEqual([200, 190, 180, 170, 160, 150, 140, 130, 120, 110, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10]);
    expect(page.next).toBeNull();
    expect(page.lines[0]).toEqual({ seq: 200, ts: 200_000, stream: "system", text: "Request 200 ERROR: boom" });
  });

  test("pages follow `next` with no gap and no repeat", async () => {
    const all: number[] = [];
    let before: number | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.logs.search("dep-a", { text: "error", limit: 7, before });
      all.push(...seqs(page.lines));
      if (page.next === null) break;
      before = page.next;
    }
    expect(all).toEqual([200, 190, 180, 170, 160, 150, 140, 130, 120, 110, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10]);
  });

  test("seq and time bounds are inclusive; streams filter", async () => {
    expect(seqs((await store.logs.search("dep-a", { sinceSeq: 48, untilSeq: 52, limit: 100 })).lines)).toEqual([52, 51, 50, 49, 48]);
    expect(seqs((await store.logs.search("dep-a", { sinceTs: 48_000, untilTs: 52_000, limit: 100 })).lines)).toEqual([52, 51, 50, 49, 48]);
    expect(seqs((await store.logs.search("dep-a", { streams: ["system"], sinceSeq: 40, untilSeq: 52, limit: 100 })).lines)).toEqual([50, 47, 44, 41]);
    expect(seqs((await store.logs.search("dep-a", { streams: ["build", "system"], untilSeq: 6, limit: 100 })).lines)).toEqual([6, 5, 3, 2]);
    expect((await store.logs.search("dep-a", { sinceSeq: 10, untilSeq: 9, limit: 100 })).lines).toEqual([]);
    expect((await store.logs.search("ghost", { limit: 100 })).lines).toEqual([]);
  });

  test("text that is not plain ASCII still matches (no whole-chunk shortcut)", async () => {
    await store.logs.appendChunk("dep-a", [
      { seq: 201, ts: 201_000, stream: "runtime", text: 'said "ÜBER" \\ quoted' },
      { seq: 202, ts: 202_000, stream: "runtime", text: "plain" },
    ]);
    expect(seqs((await store.logs.search("dep-a", { text: "über", limit: 5 })).lines)).toEqual([201]);
    expect(seqs((await store.logs.search("dep-a", { text: '"über" \\', limit: 5 })).lines)).toEqual([201]);
  });

  test("a scan budget answers a short page whose `next` resumes below what was examined", async () => {
    const first = await store.logs.search("dep-a", { text: "request 3 ok", limit: 10, scanBudget: 50 });
    expect(first.lines).toEqual([]);
    expect(first.scanned).toBe(50);
    expect(first.next).toBe(151);
    let before: number | null = first.next;
    const found: number[] = [];
    while (before !== null) {
      const page = await store.logs.search("dep-a", { text: "request 3 ok", limit: 10, scanBudget: 50, before });
      found.push(...seqs(page.lines));
      before = page.next;
    }
    expect(found).toEqual([3]);
  });
});

describe("retention", () => {
  test("prunes chunks past the age, then the oldest past the size, never the newest chunk", async () => {
    const store = SqliteStore.open(":memory:");
    for (let first = 1; first <= 200; first += 25) await store.logs.appendChunk("dep-a", lines(first, first + 24));
    await store.logs.appendChunk("dep-b", lines(1, 25));
    const before = (await store.logs.usage()).find((u) => u.stream === "dep-a")!;
    expect(before.lines).toBe(200);

    // Lines up to seq 60 are older than 60_500 ms: chunks [1–25] and [26–50] go, [51–75] holds a newer line.
    expect(await store.logs.prune("dep-a", { before: 60_500, maxBytes: Infinity })).toEqual({ lines: 50, bytes: expect.any(Number), throughSeq: 50 });
    expect((await store.logs.read("dep-a", 1, 1))[0]?.seq).toBe(51);

    // Size: keep at most one chunk's worth of bytes: everything but the newest chunk goes.
    const pruned = await store.logs.prune("dep-a", { before: 0, maxBytes: 1 });
    expect(pruned).toEqual({ lines: 125, bytes: expect.any(Number), throughSeq: 175 });
    expect(seqs(await store.logs.read("dep-a", 1, 100))).toEqual(lines(176, 200).map((l) => l.seq));
    expect(await store.logs.lastSeq("dep-a")).toBe(200);
    expect(await store.logs.prune("dep-a", { before: Infinity, maxBytes: 0 })).toEqual({ lines: 0, bytes: 0, throughSeq: 0 });
    expect((await store.logs.usage()).map((u) => [u.stream, u.lines])).toEqual([["dep-a", 25], ["dep-b", 25]]);
    expect(await store.logs.prune("ghost", { before: Infinity, maxBytes: 0 })).toEqual({ lines: 0, bytes: 0, throughSeq: 0 });
    await store.close();
  });
});

describe("query plans", () => {
  test("read and search walk the primary key: no sort of chunk bodies", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE log_chunks (stream TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, lines TEXT NOT NULL, codec TEXT, min_ts BIGINT, max_ts BIGINT, kinds TEXT, bytes BIGINT, PRIMARY KEY (stream, first_seq))");
    db.exec("CREATE INDEX log_chunks_by_last_seq ON log_chunks (stream, last_seq)");
    const plan = (sql: string, params: Array<string | number>) =>
      db.query<{ detail: string }, Array<string | number>>(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => r.detail).join("; ");
    const read = plan(READ_SQL, ["a", "a", 1, 1]);
    const search = plan(searchSql(" AND (kinds IS NULL OR kinds LIKE ?)"), ["a", 9, 1, 0, 9, "%,system,%"]);
    for (const p of [read, search]) {
      expect(p).toContain("sqlite_autoindex_log_chunks_1");
      expect(p).not.toContain("TEMP B-TREE");
    }
    db.close();
  });
});

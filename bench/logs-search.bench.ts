/**
 * Log search over one deployment's long history: fills a SQLite store with 10,000,000 lines in
 * 256-line chunks (straight through the LogRepo, as the bus writes them), then times searches
 * through the HTTP route's parser and the store, p50/p95 per kind, beside the baseline of the same
 * run: a plain scan (read every line in seq order through `read`, test each in JS), which is what
 * a search costs with no index, no whole-chunk test and no scan budget.
 *
 * Every page examines at most DEFAULT_SCAN_BUDGET stored lines (a short page carries `next`), so a
 * needle found nowhere answers in bounded time; following `next` to the end is timed too.
 *
 *   bun bench/logs-search.bench.ts [--lines 10000000] [--rounds 20] [--seconds 300]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../src/adapters/store/sqlite.ts";
import { DEFAULT_SCAN_BUDGET } from "../src/adapters/store/sqlite-logs.ts";
import type { LogLine, LogStream } from "../src/core/logs.ts";
import { parseLogSearch } from "../src/logs/search-query.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const LINES = arg("lines", 10_000_000);
const ROUNDS = arg("rounds", 20);
const DEADLINE = Date.now() + arg("seconds", 300) * 1000;
const CHUNK = 256;
const STREAM = "benchdep";
const START_TS = Date.parse("2026-11-01T00:00:00Z");
const STEP_MS = 250; // 10 M lines span ~29 days
const RARE_SEQ = 1234; // the only line holding the rare needle: near the start, the worst place for newest-first

const paths = ["/api/items", "/api/users/login", "/healthz", "/static/app.js", "/api/orders", "/api/cart"];
function lineAt(seq: number): LogLine {
  const ts = START_TS + seq * STEP_MS;
  const stream: LogStream = seq % 1000 === 0 ? "system" : seq < LINES / 100 ? "build" : "runtime";
  const i = seq;
  let text =
    seq % 10 === 0
      ? `${new Date(ts).toISOString()} ERROR [db] query failed after ${i % 3000}ms: connection reset (pool ${i % 8}) req_id=${((i * 2654435761) >>> 0).toString(16)}`
      : `${new Date(ts).toISOString()} INFO  [http] GET ${paths[i % 6]}/${(i * 7919) % 100000} ${i % 13 ? 200 : 404} ${i % 50}ms req_id=${((i * 2654435761) >>> 0).toString(16)}`;
  if (seq === RARE_SEQ) text += " needle-7f3a";
  return { seq, ts, stream, text };
}

const dir = mkdtempSync(join(tmpdir(), "kiln-logs-bench-"));
const path = join(dir, "kiln.db");
const store = SqliteStore.open(path);
const ms = (t0: number) => performance.now() - t0;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

try {
  let t0 = performance.now();
  let rawBytes = 0;
  for (let first = 1; first <= LINES; first += CHUNK) {
    const chunk: LogLine[] = [];
    for (let seq = first; seq < first + CHUNK && seq <= LINES; seq++) chunk.push(lineAt(seq));
    for (const l of chunk) rawBytes += l.text.length + 40;
    await store.logs.appendChunk(STREAM, chunk);
    if (Date.now() > DEADLINE) throw new Error(`fill did not finish within the time bound (reached seq ${first})`);
  }
  const fillMs = ms(t0);
  const usage = (await store.logs.usage())[0]!;
  console.log(`filled ${usage.lines.toLocaleString()} lines in ${(fillMs / 1000).toFixed(1)} s: ~${(rawBytes / 1e6).toFixed(0)} MB as JSON, ${(usage.bytes / 1e6).toFixed(0)} MB stored (ratio ${(rawBytes / usage.bytes).toFixed(1)}), db file ${(statSync(path).size / 1e6).toFixed(0)} MB`);

  const mid = new Date(START_TS + (LINES / 2) * STEP_MS).toISOString();
  const midEnd = new Date(START_TS + (LINES / 2) * STEP_MS + 3_600_000).toISOString();
  const kinds: Array<[string, Record<string, string>]> = [
    ["newest page, no filter", {}],
    ["common word (q=error, 10%)", { q: "ERROR" }],
    ["q=connection reset, stream=system", { q: "connection reset", stream: "system" }],
    ["1 h window in the middle, q=404", { q: " 404 ", since: mid, until: midEnd }],
    ["rare needle, one page (budget-bound)", { q: "needle-7f3a" }],
    ["absent needle, one page (budget-bound)", { q: "no-such-thing" }],
  ];
  const results: Array<[string, number, number, number]> = [];
  for (const [name, query] of kinds) {
    const times: number[] = [];
    let found = 0;
    for (let r = 0; r < ROUNDS && Date.now() < DEADLINE; r++) {
      t0 = performance.now();
      const page = await store.logs.search(STREAM, parseLogSearch(query));
      times.push(ms(t0));
      found = page.lines.length;
    }
    results.push([name, pct(times, 50), pct(times, 95), found]);
  }

  // The rare needle to the end: follow `next` until null.
  t0 = performance.now();
  let pages = 0;
  let hit: number | null = null;
  let before: number | undefined;
  for (;;) {
    const page = await store.logs.search(STREAM, { ...parseLogSearch({ q: "needle-7f3a" }), before });
    pages++;
    if (page.lines[0]) hit = page.lines[0].seq;
    if (page.next === null || Date.now() > DEADLINE) break;
    before = page.next;
  }
  const exhaustiveMs = ms(t0);

  // Baseline: the plain scan — every line through `read`, tested in JS.
  const baseline: number[] = [];
  let baseHit: number | null = null;
  for (let r = 0; r < 3 && Date.now() < DEADLINE; r++) {
    t0 = performance.now();
    for (let next = 1; next <= LINES; ) {
      const page = await store.logs.read(STREAM, next, 10_000);
      if (page.length === 0) break;
      for (const l of page) if (l.text.toLowerCase().includes("needle-7f3a")) baseHit = l.seq;
      next = page[page.length - 1]!.seq + 1;
    }
    baseline.push(ms(t0));
  }
  const base = pct(baseline, 50);

  console.log(`\n${"search".padEnd(42)} ${"p50 ms".padStart(9)} ${"p95 ms".padStart(9)} ${"lines".padStart(6)}  p95 vs plain scan`);
  for (const [name, p50, p95, found] of results) {
    console.log(`${name.padEnd(42)} ${p50.toFixed(1).padStart(9)} ${p95.toFixed(1).padStart(9)} ${String(found).padStart(6)}  ${(p95 / base).toFixed(3)}x`);
  }
  console.log(`${"rare needle to the end (following next)".padEnd(42)} ${exhaustiveMs.toFixed(0).padStart(9)} ${"".padStart(9)} ${String(hit === RARE_SEQ ? 1 : 0).padStart(6)}  ${(exhaustiveMs / base).toFixed(3)}x, ${pages} pages`);
  console.log(`${"baseline: plain scan of every line".padEnd(42)} ${base.toFixed(0).padStart(9)} ${pct(baseline, 95).toFixed(0).padStart(9)} ${String(baseHit === RARE_SEQ ? 1 : 0).padStart(6)}  1x (${baseline.length} runs)`);
  console.log(`(one page examines at most ${DEFAULT_SCAN_BUDGET.toLocaleString()} stored lines; load average ${loadavg()[0]!.toFixed(1)})`);
  const worst = Math.max(...results.map((r) => r[2]));
  console.log(`\nworst p95 of one page: ${worst.toFixed(0)} ms (goal ≤ 1000 ms): ${worst <= 1000 ? "met" : "NOT met"}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

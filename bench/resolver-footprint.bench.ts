/**
 * The tenant resolver's footprint alone (issue 14), without Docker: a fresh Kiln database, the
 * resolver started with the argv and environment Kiln gives it (src/routing/resolver-process.ts),
 * a few DNS lookups like Caddy's, then idle; then --lookups more (a burst of traffic) and idle
 * again. Prints its RSS and CPU beside an idle bare `bun -e`.
 *
 *   bun bench/resolver-footprint.bench.ts [--idle 10] [--lookups 30000] [--bin dist/kiln] [--env NAME=VALUE]...
 *
 * `--bin`: a compiled Kiln binary to run instead of `bun bin/kiln` (what a release runs);
 * `--env`: add a variable to the resolver's environment (to try a runtime setting).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { SqliteStore } from "../src/adapters/store/sqlite.ts";
import { childEnvOf } from "../src/config.ts";
import { addressName } from "../src/core/address-names.ts";
import { queryDns } from "../src/adapters/dns/client.ts";
import { RTYPE } from "../src/formats/dns-wire.ts";
import { LISTENING } from "../src/routing/main.ts";
import { resolverArgv, resolverEnv } from "../src/routing/resolver-process.ts";
import { cpuPercent, cpuTicks, mib, rss, ticksToMs, type Rss } from "./proc-stats.ts";

const argOf = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const IDLE_MS = Number(argOf("--idle") ?? 10) * 1000;
const BIN = argOf("--bin");
const LOOKUPS = Number(argOf("--lookups") ?? 30_000);
const BURST_LIMIT_MS = 60_000;
const SETTLE_MS = 2000;
const EXTRA_ENV = Object.fromEntries(process.argv.flatMap((a, i) => (process.argv[i - 1] === "--env" ? [a.split(/=(.*)/s).slice(0, 2)] : [])));

const dir = mkdtempSync(join(tmpdir(), "kiln-resolver-fp-"));
const dbPath = join(dir, "kiln.db");
const store = SqliteStore.open(dbPath);
const procs: Subprocess[] = [];

async function startResolver(): Promise<{ proc: Subprocess; address: string; startMs: number }> {
  const t0 = performance.now();
  const args = { dbPath, publicHost: "localhost", port: 0 };
  const own = resolverArgv(args);
  const argv = BIN ? [resolve(BIN), ...own.slice(own.indexOf("tenant-resolver"))] : own;
  const proc = Bun.spawn(argv, { env: { ...resolverEnv(childEnvOf(process.env)), ...EXTRA_ENV }, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  procs.push(proc);
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the resolver exited with ${await proc.exited}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const line = text.split("\n")[0]!;
  if (!line.startsWith(LISTENING)) throw new Error(`unexpected output ${line}`);
  return { proc, address: line.slice(LISTENING.length).trim(), startMs: performance.now() - t0 };
}

const f1 = (n: number) => n.toFixed(1);

/** Sample a pid's RSS every 500 ms for IDLE_MS. */
async function idleWindow(pid: number): Promise<{ maxKb: number; ms: number }> {
  const t0 = performance.now();
  let maxKb = 0;
  while (performance.now() - t0 < IDLE_MS) {
    maxKb = Math.max(maxKb, rss(pid).totalKb);
    await Bun.sleep(500);
  }
  return { maxKb, ms: performance.now() - t0 };
}
const parts = (r: Rss) => `anon ${f1(mib(r.anonKb))} + file ${f1(mib(r.fileKb))} MiB; PSS ${f1(mib(r.pssKb))}, private ${f1(mib(r.privateKb))} MiB`;

try {
  const { proc, address, startMs } = await startResolver();
  // What Caddy asks: the loopback check Kiln makes, a tenant that does not exist (a database read), a stranger name.
  const t0 = performance.now();
  await queryDns(address, addressName("127.0.0.1"), RTYPE.A, 1000);
  for (let i = 0; i < 20; i++) await queryDns(address, `t-${i}.w-footprint.localhost`, RTYPE.A, 1000).catch(() => null);
  const lookupMs = (performance.now() - t0) / 21;
  const base = Bun.spawn(["bun", "-e", "setInterval(()=>{},1000)"], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  procs.push(base);
  await Bun.sleep(SETTLE_MS);
  const ticks = [cpuTicks(proc.pid), cpuTicks(base.pid)];
  const idle = await idleWindow(proc.pid);
  const r = rss(proc.pid);
  const b = rss(base.pid);
  console.log(`resolver (${BIN ? BIN : "bun bin/kiln"}${Object.keys(EXTRA_ENV).length ? ` ${JSON.stringify(EXTRA_ENV)}` : ""}): start ${f1(startMs)} ms, ${lookupMs.toFixed(2)} ms a lookup`);
  console.log(`  idle      RSS ${f1(mib(r.totalKb))} MiB (max ${f1(mib(idle.maxKb))}; ${parts(r)}), CPU ${cpuPercent(ticks[0]!, cpuTicks(proc.pid), idle.ms).toFixed(2)}%`);
  console.log(`  baseline  RSS ${f1(mib(b.totalKb))} MiB (${parts(b)}), CPU ${cpuPercent(ticks[1]!, cpuTicks(base.pid), idle.ms).toFixed(2)}%`);
  console.log(`  resolver above the bare runtime: ${f1(mib(r.totalKb - b.totalKb))} MiB`);
  // A burst: sequential lookups of 50 tenants (each a database read), bounded in count and time.
  const c0 = cpuTicks(proc.pid);
  const t2 = performance.now();
  let n = 0;
  for (; n < LOOKUPS && performance.now() - t2 < BURST_LIMIT_MS; n++) await queryDns(address, `t-${n % 50}.w-footprint.localhost`, RTYPE.A, 1000).catch(() => null);
  const burstMs = performance.now() - t2;
  const cpuMs = ticksToMs(cpuTicks(proc.pid) - c0);
  const afterBurst = rss(proc.pid);
  await Bun.sleep(SETTLE_MS);
  const idle2 = await idleWindow(proc.pid);
  const r2 = rss(proc.pid);
  console.log(`  burst     ${n} lookups in ${f1(burstMs)} ms (${f1((burstMs / n) * 1000)} µs each, ${f1((cpuMs / n) * 1000)} µs of resolver CPU each); RSS right after ${f1(mib(afterBurst.totalKb))} MiB (${parts(afterBurst)})`);
  console.log(`  idle again RSS ${f1(mib(r2.totalKb))} MiB (max ${f1(mib(idle2.maxKb))}; ${parts(r2)})`);
} finally {
  for (const p of procs) p.kill("SIGKILL");
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Log ingest benchmark, against the real engine: an app writes BENCH_LINES (default 1,000,000)
 * numbered lines of ~100 bytes as fast as it can, with the shipped log config, and Kiln's ingest
 * (RuntimeWatcher → LogBus → SQLite store, test/logs/burst-app.ts) follows it from its start.
 * Prints lines written, stored, lost, duplicated, lines/s end to end (container start → every line
 * in the store) and how long after the app's last write the last line was stored; then the
 * baseline in the same run: `docker logs` (GET /containers/{id}/logs) reading the same container's
 * whole log. Goals: 0 lost, 0 duplicated, ≥ 100k lines/s, all stored within 1 s of the last write.
 * Bounded: the run gives up after 150 s, the baseline read after 60 s.
 *
 *   bun bench/logs.bench.ts          (BENCH_LINES=200000 for a quick run)
 */
import { DockerEngine } from "../src/adapters/docker/engine.ts";
import { splitStamp } from "../src/adapters/docker/log-stamps.ts";
import { LogDemuxer } from "../src/formats/log-demux.ts";
import { removeLabelled } from "../test/helpers/served-image.ts";
import { cpuTicks, ticksToMs } from "./proc-stats.ts";
import { createBurstApp, startWithIngest, tally } from "../test/logs/burst-app.ts";

const N = Math.max(1, Number(process.env.BENCH_LINES ?? 1_000_000) || 1_000_000);
const WIDTH = 90; // 9 digits, a space, 90 x's: 100 bytes a line
const RUN_CAP_MS = 150_000;
const BASELINE_CAP_MS = 60_000;
const SOCKET = "/var/run/docker.sock";
const RUN = crypto.randomUUID().slice(0, 8);
const LABELS = { "kiln.test": "1", "kiln.test.suite": "logs-bench", "kiln.test.run": RUN };

const engine = new DockerEngine();
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function raw(path: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`http://docker/v1.41${path}`, { unix: SOCKET, signal } as RequestInit);
}

/** The engine time (ms) of the app's last line. */
async function lastWriteMs(id: string): Promise<number> {
  const res = await raw(`/containers/${id}/logs?stdout=1&stderr=1&timestamps=1&tail=1`);
  let ms = Number.NaN;
  const demux = new LogDemuxer((_s, line) => {
    const s = splitStamp(line);
    if (s) ms = Number(s.ns / 1_000_000n);
  });
  for await (const chunk of res.body!) demux.push(chunk);
  demux.end();
  return ms;
}

/** `docker logs`: the whole log of the (stopped) container, read once; lines and seconds. */
async function dockerLogs(id: string): Promise<{ lines: number; seconds: number }> {
  const started = performance.now();
  const res = await raw(`/containers/${id}/logs?stdout=1&stderr=1`, AbortSignal.timeout(BASELINE_CAP_MS));
  let lines = 0;
  const demux = new LogDemuxer(() => lines++);
  for await (const chunk of res.body!) demux.push(chunk);
  demux.end();
  return { lines, seconds: (performance.now() - started) / 1000 };
}

function goal(name: string, met: boolean, miss: string): void {
  console.log(`  ${met ? "MET   " : "MISSED"} ${name}${met ? "" : ` — ${miss}`}`);
}

/** dockerd's pid, to count the CPU its follow costs beside Kiln's. */
const dockerdPid = Number((await Bun.file("/var/run/docker.pid").text().catch(() => "0")).trim()) || 0;
const id = await createBurstApp(engine, { name: `kiln-bench-logs-${RUN}`, n: N, width: WIDTH, labels: LABELS });
try {
  const cpuBefore = { kiln: process.cpuUsage(), dockerd: dockerdPid ? cpuTicks(dockerdPid) : 0 };
  const startedAt = Date.now();
  const ingest = await startWithIngest(engine, id);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cap = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), RUN_CAP_MS)));
  const timedOut = await Promise.race([ingest.exited.then(() => false), cap]);
  clearTimeout(timer);
  const storedAt = await ingest.flush();
  const kilnCpu = process.cpuUsage(cpuBefore.kiln);
  const cpu = { kiln: (kilnCpu.user + kilnCpu.system) / 1e6, dockerd: dockerdPid ? ticksToMs(cpuTicks(dockerdPid) - cpuBefore.dockerd) / 1000 : Number.NaN };
  const lastWrite = await lastWriteMs(id);
  const tallyStarted = performance.now();
  const t = tally(await ingest.stored(), N);
  await ingest.close();
  const tallyS = (performance.now() - tallyStarted) / 1000;
  const base = await dockerLogs(id);

  const seconds = (storedAt - startedAt) / 1000;
  const rate = t.runtime / seconds;
  const lagS = (storedAt - lastWrite) / 1000;
  const writeS = (lastWrite - startedAt) / 1000;
  console.log(`log ingest: ${fmt(N)} lines of ${WIDTH + 10} bytes, shipped json-file config${timedOut ? ` (GAVE UP after ${RUN_CAP_MS / 1000} s)` : ""}`);
  console.log(`  written     ${fmt(N)} in ${writeS.toFixed(2)} s (${fmt(N / writeS)} lines/s, as the engine stamped them)`);
  console.log(`  stored      ${fmt(t.runtime)} (+${t.system.length} system lines)`);
  console.log(`  lost        ${fmt(t.lost)}`);
  console.log(`  duplicated  ${fmt(t.duplicated)}   out of order ${fmt(t.outOfOrder)}`);
  console.log(`  end to end  ${fmt(rate)} lines/s (start → all stored in ${seconds.toFixed(2)} s)`);
  console.log(`  last stored ${lagS.toFixed(2)} s after the app's last write`);
  console.log(`  CPU         Kiln's ingest ${cpu.kiln.toFixed(2)} s (${((cpu.kiln * 1e6) / N).toFixed(1)} µs a line); dockerd ${cpu.dockerd.toFixed(2)} s (writing the json-file and serving the follow) — on ${navigator.hardwareConcurrency} cores`);
  for (const s of t.system.slice(0, 5)) console.log(`  said: ${s}`);
  console.log(`  (reading the store back to count took ${tallyS.toFixed(1)} s, outside the figures)`);
  console.log(`baseline, same container: docker logs (GET /containers/{id}/logs) read ${fmt(base.lines)} lines in ${base.seconds.toFixed(2)} s (${fmt(base.lines / base.seconds)} lines/s)`);
  console.log(`  Kiln end to end / docker logs read rate: ${(rate / (base.lines / base.seconds)).toFixed(2)}×`);
  console.log("goals:");
  goal("0 lost", t.lost === 0, `${fmt(t.lost)} lost (${((100 * t.lost) / N).toFixed(2)}%)`);
  goal("0 duplicated", t.duplicated === 0, `${fmt(t.duplicated)} duplicated`);
  goal("≥ 100,000 lines/s end to end", rate >= 100_000, `${fmt(rate)} lines/s, ${((100 * (100_000 - rate)) / 100_000).toFixed(1)}% short`);
  goal("all stored within 1 s of the app's last write", lagS <= 1, `${lagS.toFixed(2)} s, ${(lagS - 1).toFixed(2)} s over`);
} finally {
  await removeLabelled(engine, LABELS);
}

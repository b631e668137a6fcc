/**
 * Log fan-out: 1,000 WebSocket subscribers (protocol v2) on one deployment's log while 5,000
 * lines/s are published straight into a real Kiln's bus. Prints publish→receive p50/p99/max, lines
 * lost (gaps) or repeated, cuts (slow subscribers resumed by the client), and Kiln's RSS before and
 * at peak. Subscribers run in child processes so the RSS is Kiln's (with the publisher) alone.
 * On a small machine the subscribers compete with Kiln for the CPU, so the bench prints the CPU
 * each side used while publishing (Kiln from process.cpuUsage, each subscriber process from
 * /proc/<pid>/stat), and what the rest of the machine used (/proc/stat busy minus both): a run
 * with "other processes" far above 0 was measured on a machine shared with other work.
 *
 *   bun bench/logs-fanout.bench.ts [--subscribers 1000] [--rate 5000] [--seconds 10] [--procs 2] [--client full|cheap]
 * --client full (default) reads through KilnClient (JSON.parse per frame); cheap scans frames
 * with indexOf (bench/logs-fanout-subscribers.ts), to see what Kiln does when the clients cost less.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, tarOf } from "../test/helpers/kiln.ts";
import { cpuPercent, cpuTicks } from "./proc-stats.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SUBSCRIBERS = arg("subscribers", 1000);
const RATE = arg("rate", 5000);
const SECONDS = Math.min(30, arg("seconds", 10));
const PROCS = arg("procs", 2);
const CLIENT = process.argv.includes("cheap") ? "cheap" : "full";
const TICK_MS = 10;
const benchStart = Date.now();
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
/** The machine's busy and total CPU time (all cores), from /proc/stat. */
const machineCpu = (): { busy: number; total: number } => {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - (f[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 1 };
  }
};

const kiln = await startTestKiln();
const tmp = mkdtempSync(join(tmpdir(), "kiln-fanout-"));
const children: Bun.Subprocess<"pipe", "pipe", "inherit">[] = [];
try {
  const empty = join(tmp, "empty");
  mkdirSync(empty, { recursive: true });
  writeFileSync(join(empty, "README.txt"), "nothing to run\n");
  const created = await kiln.api("/deployments/upload?name=fanout", { method: "POST", body: await tarOf(empty) });
  const { id } = (await created.json()) as { id: string };
  await kiln.waitFor(id, ["failed"], 60_000);
  const since = (await kiln.bus.lastSeq(id)) + 1;

  const per = Math.ceil(SUBSCRIBERS / PROCS);
  for (let p = 0; p < PROCS; p++) {
    const n = Math.min(per, SUBSCRIBERS - p * per);
    children.push(
      Bun.spawn(["bun", join(import.meta.dir, "logs-fanout-subscribers.ts"), kiln.apiUrl, kiln.token, id, String(since), String(n), CLIENT], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
  }
  const readers = children.map((c) => c.stdout.getReader());
  const readLine = async (r: { read(): Promise<{ value?: Uint8Array; done: boolean }> }, buf: { s: string }) => {
    while (!buf.s.includes("\n")) {
      const { value, done } = await r.read();
      if (done) throw new Error("a subscriber process ended early");
      buf.s += new TextDecoder().decode(value);
    }
    const at = buf.s.indexOf("\n");
    const line = buf.s.slice(0, at);
    buf.s = buf.s.slice(at + 1);
    return line;
  };
  const bufs = children.map(() => ({ s: "" }));
  await Promise.all(readers.map((r, i) => readLine(r, bufs[i]!)));
  const rssBefore = process.memoryUsage().rss;
  console.log(`${SUBSCRIBERS} subscribers (client: ${CLIENT}, ${PROCS} processes) live after ${((Date.now() - benchStart) / 1000).toFixed(1)} s; publishing ${RATE} lines/s for ${SECONDS} s`);

  // Publish on a 10 ms tick, catching up on what the clock says is due (a late tick publishes more).
  const wall = () => performance.timeOrigin + performance.now();
  let peakRss = rssBefore;
  let published = 0;
  let lastSeq = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const subCpu0 = children.map((c) => cpuTicks(c.pid));
  const machine0 = machineCpu();
  // Kiln's event-loop lag: how much later than asked each tick wakes (Kiln and the publisher share the loop).
  const lags: number[] = [];
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; published < due; published++) lastSeq = kiln.bus.publish(id, "runtime", String(wall())).seq;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const asleep = performance.now();
    await Bun.sleep(TICK_MS);
    lags.push(performance.now() - asleep - TICK_MS);
  }
  lags.sort((a, b) => a - b);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const kilnCpu = (cpu.user + cpu.system) / 1e6 / elapsed;
  const subCpu = children.map((c, i) => cpuPercent(subCpu0[i]!, cpuTicks(c.pid), elapsed * 1000) / 100);
  const machine1 = machineCpu();
  const machineBusy = (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total);
  for (const c of children) {
    c.stdin.write(`${lastSeq}\n`);
    await c.stdin.flush();
  }
  const reports = (await Promise.all(readers.map((r, i) => readLine(r, bufs[i]!)))).map(
    (l) => JSON.parse(l) as { cpuSeconds: number; received: number; frames: number; gaps: number; duplicates: number; cuts: number; behind: number; p50: number; p99: number; max: number; lagP99: number; lagMax: number },
  );
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sum = (k: "received" | "frames" | "gaps" | "duplicates" | "cuts" | "behind") => reports.reduce((a, r) => a + r[k], 0);
  const worst = (k: "p50" | "p99" | "max" | "lagP99" | "lagMax") => Math.max(...reports.map((r) => r[k]));
  console.log(`published ${published} lines in ${elapsed.toFixed(1)} s (${Math.round(published / elapsed)} lines/s); expected deliveries ${published * SUBSCRIBERS}`);
  console.log(`received ${sum("received")} in ${sum("frames")} frames; gaps ${sum("gaps")}; duplicates ${sum("duplicates")}; cuts (resumed) ${sum("cuts")}; streams behind at the end ${sum("behind")}`);
  console.log(`publish→receive: p50 ${worst("p50").toFixed(1)} ms, p99 ${worst("p99").toFixed(1)} ms, max ${worst("max").toFixed(1)} ms (worst subscriber process)`);
  console.log(
    `event-loop lag (a 10 ms timer firing late): Kiln p99 ${lags[Math.floor(lags.length * 0.99)]!.toFixed(1)} ms, max ${lags.at(-1)!.toFixed(1)} ms; subscriber processes p99 ${worst("lagP99").toFixed(1)} ms, max ${worst("lagMax").toFixed(1)} ms`,
  );
  const pc = (x: number) => `${(x * 100).toFixed(0)}%`;
  const subTotal = subCpu.reduce((a, b) => a + b, 0);
  const others = Math.max(0, machineBusy * navigator.hardwareConcurrency - kilnCpu - subTotal);
  console.log(
    `CPU while publishing (100% = one core; ${navigator.hardwareConcurrency} cores): Kiln+publisher ${pc(kilnCpu)} (user ${pc(cpu.user / 1e6 / elapsed)}, system ${pc(cpu.system / 1e6 / elapsed)}), subscribers ${pc(subTotal)} (${subCpu.map(pc).join(" + ")}), other processes ${pc(others)}, machine busy ${pc(machineBusy * navigator.hardwareConcurrency)}`,
  );
  // Per frame: CPU from the first publish until every subscriber has caught up (catch-up included).
  const kilnAll = process.cpuUsage(cpu0);
  const perFrame = (seconds: number) => `${((seconds * 1e6) / Math.max(1, sum("frames"))).toFixed(1)} µs`;
  console.log(
    `CPU per frame delivered (first publish to last frame read): Kiln+publisher ${perFrame((kilnAll.user + kilnAll.system) / 1e6)}, subscribers ${perFrame(reports.reduce((a, r) => a + r.cpuSeconds, 0))}`,
  );
  console.log(`Kiln RSS: ${mb(rssBefore)} with subscribers connected, ${mb(peakRss)} at peak`);
  console.log(`bench took ${((Date.now() - benchStart) / 1000).toFixed(1)} s`);
} finally {
  for (const c of children) c.kill();
  await kiln.stop();
  rmSync(tmp, { recursive: true, force: true });
}

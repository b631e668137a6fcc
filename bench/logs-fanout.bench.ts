/**
 * Log fan-out: 1,000 WebSocket subscribers (protocol v2) on one deployment's log while 5,000
 * lines/s are published straight into a real Kiln's bus. Prints publish→receive p50/p99/max, lines
 * lost (gaps) or repeated, cuts (slow subscribers resumed by the client), and Kiln's RSS before and
 * at peak. Subscribers run in child processes so the RSS is Kiln's (with the publisher) alone.
 *
 *   bun bench/logs-fanout.bench.ts [--subscribers 1000] [--rate 5000] [--seconds 10] [--procs 2]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, tarOf } from "../test/helpers/kiln.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SUBSCRIBERS = arg("subscribers", 1000);
const RATE = arg("rate", 5000);
const SECONDS = Math.min(30, arg("seconds", 10));
const PROCS = arg("procs", 2);
const TICK_MS = 10;
const benchStart = Date.now();
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

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
      Bun.spawn(["bun", join(import.meta.dir, "logs-fanout-subscribers.ts"), kiln.apiUrl, kiln.token, id, String(since), String(n)], {
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
  console.log(`${SUBSCRIBERS} subscribers live after ${((Date.now() - benchStart) / 1000).toFixed(1)} s; publishing ${RATE} lines/s for ${SECONDS} s`);

  // Publish on a 10 ms tick, catching up on what the clock says is due (a late tick publishes more).
  const wall = () => performance.timeOrigin + performance.now();
  let peakRss = rssBefore;
  let published = 0;
  let lastSeq = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; published < due; published++) lastSeq = kiln.bus.publish(id, "runtime", String(wall())).seq;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await Bun.sleep(TICK_MS);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const kilnCpu = (cpu.user + cpu.system) / 1e6 / elapsed;
  for (const c of children) {
    c.stdin.write(`${lastSeq}\n`);
    await c.stdin.flush();
  }
  const reports = (await Promise.all(readers.map((r, i) => readLine(r, bufs[i]!)))).map(
    (l) => JSON.parse(l) as { received: number; gaps: number; duplicates: number; cuts: number; behind: number; p50: number; p99: number; max: number },
  );
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sum = (k: "received" | "gaps" | "duplicates" | "cuts" | "behind") => reports.reduce((a, r) => a + r[k], 0);
  const worst = (k: "p50" | "p99" | "max") => Math.max(...reports.map((r) => r[k]));
  console.log(`published ${published} lines in ${elapsed.toFixed(1)} s (${Math.round(published / elapsed)} lines/s); expected deliveries ${published * SUBSCRIBERS}`);
  console.log(`received ${sum("received")}; gaps ${sum("gaps")}; duplicates ${sum("duplicates")}; cuts (resumed) ${sum("cuts")}; streams behind at the end ${sum("behind")}`);
  console.log(`publish→receive: p50 ${worst("p50").toFixed(1)} ms, p99 ${worst("p99").toFixed(1)} ms, max ${worst("max").toFixed(1)} ms (worst subscriber process)`);
  console.log(`Kiln CPU while publishing: ${(kilnCpu * 100).toFixed(0)}% of one core (this machine has ${navigator.hardwareConcurrency}; the subscriber processes share them)`);
  console.log(`Kiln RSS: ${mb(rssBefore)} with subscribers connected, ${mb(peakRss)} at peak`);
  console.log(`bench took ${((Date.now() - benchStart) / 1000).toFixed(1)} s`);
} finally {
  for (const c of children) c.kill();
  await kiln.stop();
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * The subscriber side of bench/logs-fanout.bench.ts, in its own process (so the bench measures
 * Kiln's RSS, not the clients'): opens N log streams through KilnClient (protocol v2, resumes
 * after a cut), records publish→receive latency per line (the line's text is its publish time),
 * and on "stop" on stdin waits for every stream to reach the last seq, then prints one JSON report.
 *   bun bench/logs-fanout-subscribers.ts <baseUrl> <token> <deployment> <since> <count>
 */
import { KilnClient } from "../src/client/api-client.ts";

const [baseUrl, token, deployment, sinceArg, countArg] = process.argv.slice(2) as [string, string, string, string, string];
const since = Number(sinceArg);
const count = Number(countArg);
const now = () => performance.timeOrigin + performance.now();

/** Latency histogram: 0.1 ms buckets up to 60 s. */
const BUCKET_MS = 0.1;
const hist = new Uint32Array(600_000);
let received = 0;
let gaps = 0;
let duplicates = 0;
let connections = 0;
const nextSeq = new Array<number>(count).fill(since);
let ready = 0;
let onReady: () => void = () => {};
const allReady = new Promise<void>((r) => (onReady = r));

const api = new KilnClient({ baseUrl, token });
const streams = Array.from({ length: count }, (_, i) => {
  let first = true;
  return api.streamLogs(deployment, {
    since,
    follow: true,
    onLines: (lines) => {
      const t = now();
      for (const l of lines) {
        if (l.seq > nextSeq[i]!) gaps += l.seq - nextSeq[i]!;
        if (l.seq < nextSeq[i]!) duplicates++;
        nextSeq[i] = l.seq + 1;
        const ms = t - Number(l.text);
        hist[Math.min(hist.length - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]!++;
        received++;
      }
    },
    onReplayed: () => {
      connections++;
      if (first && ++ready === count) onReady();
      first = false;
    },
  });
});

await allReady;
process.stdout.write("ready\n");
const reader = Bun.stdin.stream().getReader();
let input = "";
while (!input.includes("\n")) input += new TextDecoder().decode((await reader.read()).value);
const lastSeq = Number(input.trim());
const deadline = Date.now() + 15_000;
while (nextSeq.some((n) => n <= lastSeq) && Date.now() < deadline) await Bun.sleep(20);
const behind = nextSeq.filter((n) => n <= lastSeq).length;
const pct = (p: number) => {
  let seen = 0;
  const want = Math.ceil(received * p);
  for (let b = 0; b < hist.length; b++) if ((seen += hist[b]!) >= want) return (b + 1) * BUCKET_MS;
  return Infinity;
};
for (const s of streams) s.close();
process.stdout.write(`${JSON.stringify({ received, gaps, duplicates, cuts: connections - count, behind, p50: pct(0.5), p99: pct(0.99), max: pct(1) })}\n`);
process.exit(0);

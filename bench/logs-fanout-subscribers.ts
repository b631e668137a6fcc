/**
 * The subscriber side of bench/logs-fanout.bench.ts, in its own process (so the bench measures
 * Kiln's RSS, not the clients'): opens N log streams (protocol v2, resuming after a cut), records
 * publish→receive latency per line (the line's text is its publish time), and on "stop" on stdin
 * waits for every stream to reach the last seq, then prints one JSON report.
 *   bun bench/logs-fanout-subscribers.ts <baseUrl> <token> <deployment> <since> <count> [full|cheap]
 * full: through KilnClient.streamLogs (JSON.parse of every frame, as `kiln logs -f` does).
 * cheap: a bare WebSocket that scans each `lines` frame for seq and text with indexOf, building
 * no objects: the same checks (gaps, duplicates, per-line latency) for a fraction of the client
 * CPU, so that on a small machine the subscribers take less of the CPU Kiln needs.
 */
import { KilnClient } from "../src/client/api-client.ts";
import type { LogFrame } from "../src/http/log-frames.ts";
import { CLOSE_CUT } from "../src/http/log-frames.ts";

const [baseUrl, token, deployment, sinceArg, countArg, modeArg] = process.argv.slice(2) as [string, string, string, string, string, string?];
const since = Number(sinceArg);
const count = Number(countArg);
const mode = modeArg === "cheap" ? "cheap" : "full";
const now = () => performance.timeOrigin + performance.now();

/** Latency histogram: 0.1 ms buckets up to 60 s. */
const BUCKET_MS = 0.1;
const hist = new Uint32Array(600_000);
let received = 0;
/** `lines` frames received: the client's (and the server's) cost goes mostly per frame. */
let frames = 0;
let gaps = 0;
let duplicates = 0;
let connections = 0;
const nextSeq = new Array<number>(count).fill(since);
let ready = 0;
let onReady: () => void = () => {};
const allReady = new Promise<void>((r) => (onReady = r));

const record = (i: number, seq: number, sentAt: number, t: number) => {
  if (seq > nextSeq[i]!) gaps += seq - nextSeq[i]!;
  if (seq < nextSeq[i]!) duplicates++;
  nextSeq[i] = seq + 1;
  hist[Math.min(hist.length - 1, Math.max(0, Math.floor((t - sentAt) / BUCKET_MS)))]!++;
  received++;
};
const replayed = (first: { v: boolean }) => {
  connections++;
  if (first.v && ++ready === count) onReady();
  first.v = false;
};

/** Through the real client: what `kiln logs -f` costs. */
function fullStream(i: number): { close(): void } {
  const first = { v: true };
  return new KilnClient({ baseUrl, token }).streamLogs(deployment, {
    since,
    follow: true,
    onLines: (lines) => {
      frames++;
      const t = now();
      for (const l of lines) record(i, l.seq, Number(l.text), t);
    },
    onReplayed: () => replayed(first),
  });
}

/** A bare socket reading `lines` frames by indexOf: {"seq":N,…,"text":"<ms>"} per line. */
function cheapStream(i: number): { close(): void } {
  const first = { v: true };
  let ws: WebSocket | null = null;
  let stopped = false;
  const connect = () => {
    const url = `${baseUrl.replace(/^http/, "ws")}/api/v1/deployments/${deployment}/logs?since=${nextSeq[i]}&v=2&token=${token}`;
    const socket = new WebSocket(url);
    ws = socket;
    let resumeFrom = 0;
    socket.onmessage = (ev) => {
      const s = ev.data as string;
      const t = now();
      if (s.startsWith('{"type":"lines"')) {
        frames++;
        for (let at = s.indexOf('{"seq":'); at >= 0; at = s.indexOf('{"seq":', at + 7)) {
          const seq = Number(s.slice(at + 7, s.indexOf(",", at + 7)));
          const text = s.indexOf('"text":"', at) + 8;
          const sentAt = Number(s.slice(text, s.indexOf('"', text)));
          if (seq >= nextSeq[i]!) record(i, seq, sentAt, t);
          else duplicates++;
        }
      } else {
        const frame = JSON.parse(s) as LogFrame;
        if (frame.type === "replayed") replayed(first);
        else if (frame.type === "cut") resumeFrom = frame.resumeFrom;
      }
    };
    socket.onclose = (ev) => {
      if (stopped || (ev.code !== CLOSE_CUT && resumeFrom === 0)) return;
      nextSeq[i] = Math.max(nextSeq[i]!, resumeFrom);
      connect();
    };
  };
  connect();
  return {
    close: () => {
      stopped = true;
      ws?.close();
    },
  };
}

const streams = Array.from({ length: count }, (_, i) => (mode === "cheap" ? cheapStream(i) : fullStream(i)));

await allReady;
const cpuAtReady = process.cpuUsage();
// Event-loop lag: how late a 10 ms timer fires in this process (a busy or starved client shows here).
const lagHist = new Uint32Array(600_000);
let lagAt = performance.now();
const lagTimer = setInterval(() => {
  const t = performance.now();
  lagHist[Math.min(lagHist.length - 1, Math.floor(Math.max(0, t - lagAt - 10) / BUCKET_MS))]!++;
  lagAt = t;
}, 10);
process.stdout.write("ready\n");
const reader = Bun.stdin.stream().getReader();
let input = "";
while (!input.includes("\n")) input += new TextDecoder().decode((await reader.read()).value);
const lastSeq = Number(input.trim());
const deadline = Date.now() + 15_000;
while (nextSeq.some((n) => n <= lastSeq) && Date.now() < deadline) await Bun.sleep(20);
const behind = nextSeq.filter((n) => n <= lastSeq).length;
clearInterval(lagTimer);
const pctOf = (h: Uint32Array, p: number) => {
  let seen = 0;
  const want = Math.ceil(h.reduce((a, b) => a + b, 0) * p);
  for (let b = 0; b < h.length; b++) if ((seen += h[b]!) >= want) return (b + 1) * BUCKET_MS;
  return Infinity;
};
const pct = (p: number) => pctOf(hist, p);
const cpu = process.cpuUsage(cpuAtReady);
for (const s of streams) s.close();
process.stdout.write(`${JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, received, frames, gaps, duplicates, cuts: connections - count, behind, p50: pct(0.5), p99: pct(0.99), max: pct(1), lagP99: pctOf(lagHist, 0.99), lagMax: pctOf(lagHist, 1) })}\n`);
process.exit(0);

/**
 * An app that writes `n` numbered lines as fast as its stdout takes them, then exits, and Kiln's
 * ingest following it (RuntimeWatcher → LogBus → SQLite store) — for the ingest test and
 * bench/logs.bench.ts. Line i is its number, 9 digits, a space and `width` x's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureNodeBaseImage } from "../../src/adapters/docker/base-image.ts";
import { containerCreateBody } from "../../src/adapters/docker/create-body.ts";
import type { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogLine } from "../../src/core/logs.ts";
import type { Labels } from "../../src/core/ports/runtime.ts";
import { RuntimeWatcher } from "../../src/containers/runtime-watch.ts";
import { LogBus } from "../../src/logs/bus.ts";

const SOCKET = "/var/run/docker.sock";

/** Writes as fast as stdout drains (a container's stdout is a pipe Node writes asynchronously). */
const WRITER = `
const n = Number(process.env.N), pad = "x".repeat(Number(process.env.W));
let i = 0;
function pump() {
  while (i < n) {
    let s = "";
    for (let j = 0; j < 1000 && i < n; j++, i++) s += String(i).padStart(9, "0") + " " + pad + "\\n";
    if (!process.stdout.write(s)) return void process.stdout.once("drain", pump);
  }
}
pump();
`;

export interface BurstOptions {
  name: string;
  n: number;
  width: number;
  labels: Labels;
  /** A json-file config other than the shipped one (create-body.ts). */
  logConfig?: Record<string, string>;
}

/** Creates the writer (not started): its id. */
export async function createBurstApp(engine: DockerEngine, o: BurstOptions): Promise<string> {
  const image = await ensureNodeBaseImage(engine);
  const body = containerCreateBody({
    name: o.name,
    image,
    labels: o.labels,
    env: { N: String(o.n), W: String(o.width) },
    entrypoint: ["node", "-e", WRITER],
    network: "none",
    memoryBytes: 512 * 1024 * 1024,
    nanoCpus: 1_000_000_000,
    pidsLimit: 64,
    restartPolicy: "no",
  });
  if (o.logConfig) body.HostConfig.LogConfig = { Type: "json-file", Config: o.logConfig };
  const res = await fetch(`http://docker/v1.41/containers/create?name=${o.name}`, {
    method: "POST",
    unix: SOCKET,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  } as RequestInit);
  if (!res.ok) throw new Error(`create ${o.name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { Id: string }).Id;
}

/** Kiln's ingest for one container, on a store of its own. */
export interface Ingest {
  /** Resolves once the container's output ended and it stopped (the watcher's exit report). */
  exited: Promise<void>;
  /** Every line of the stream as stored, in seq order (flushes first). */
  stored(): Promise<LogLine[]>;
  /** When the bus last got a runtime line (epoch ms). */
  lastLineAt(): number;
  /** Runtime lines published so far. */
  count(): number;
  /** Drops the follow and watches again, as Kiln does after a broken stream: it resumes from the cursor. */
  rewatch(): void;
  /** Writes every line published so far to the store; when that finished (epoch ms). */
  flush(): Promise<number>;
  close(): Promise<void>;
}

const STREAM = "burst";

/** Starts the container and follows it from its start, as Kiln follows a new app container. */
export async function startWithIngest(engine: DockerEngine, id: string): Promise<Ingest> {
  const dir = mkdtempSync(join(tmpdir(), "kiln-ingest-"));
  const store = SqliteStore.open(join(dir, "kiln.db"));
  const bus = new LogBus({ store: store.logs });
  await bus.open(STREAM);
  const sink = bus.sink(STREAM);
  let last = 0;
  let count = 0;
  let exit!: () => void;
  const exited = new Promise<void>((r) => (exit = r));
  const watcher = new RuntimeWatcher(
    engine,
    () => (stream, text, mark) => {
      if (stream === "runtime") {
        last = Date.now();
        count++;
      }
      sink(stream, text, mark);
    },
    () => exit(),
    store.logs,
  );
  const since = Math.floor(Date.now() / 1000) - 1;
  await engine.startContainer(id);
  watcher.watch(STREAM, id, since);
  return {
    exited,
    lastLineAt: () => last,
    count: () => count,
    rewatch: () => watcher.watch(STREAM, id, since),
    flush: () => bus.flush().then(() => Date.now()),
    async stored() {
      await bus.flush();
      const out: LogLine[] = [];
      for (let next = 1; ; ) {
        const page = await store.logs.read(STREAM, next, 50_000);
        if (page.length === 0) return out;
        for (const l of page) out.push(l);
        next = page[page.length - 1]!.seq + 1;
      }
    },
    async close() {
      watcher.stopAll();
      await bus.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How the stored lines compare with 0..n-1: how many are missing, repeated, out of order. */
export function tally(lines: LogLine[], n: number): { runtime: number; lost: number; duplicated: number; outOfOrder: number; system: string[] } {
  const seen = new Uint8Array(n);
  let duplicated = 0;
  let outOfOrder = 0;
  let prev = -1;
  let runtime = 0;
  const system: string[] = [];
  for (const l of lines) {
    if (l.stream === "system") {
      system.push(l.text);
      continue;
    }
    runtime++;
    const i = Number(l.text.slice(0, 9));
    if (!Number.isInteger(i) || i < 0 || i >= n) continue;
    if (seen[i]) duplicated++;
    else seen[i] = 1;
    if (i < prev) outOfOrder++;
    prev = i;
  }
  let lost = 0;
  for (let i = 0; i < n; i++) if (!seen[i]) lost++;
  return { runtime, lost, duplicated, outOfOrder, system };
}

/**
 * A Kiln that crashes while an app writes, and a new one on the same store, against the real
 * engine: the lines the first had in memory are gone with it, and the second resumes each
 * container's log just after the last line stored (the source marks stored with each chunk) — so
 * the store ends with every line exactly once, in order, and nothing said lost.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { SqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogLine } from "../../src/core/logs.ts";
import type { LogRepo } from "../../src/core/ports/store.ts";
import { RuntimeWatcher } from "../../src/containers/runtime-watch.ts";
import { LogBus } from "../../src/logs/bus.ts";
import { removeLabelled } from "../helpers/served-image.ts";
import { until } from "../helpers/wait.ts";
import { createBurstApp, tally } from "./burst-app.ts";

const engine = new DockerEngine();
const RUN = crypto.randomUUID().slice(0, 8);
const LABELS = { "kiln.test": "1", "kiln.test.suite": "logs-restart", "kiln.test.run": RUN };
const STREAM = "restart";

afterAll(() => removeLabelled(engine, LABELS));

/** One Kiln's ingest on `store`: a bus and a watcher; `crash()` loses what it holds in memory. */
function kilnOn(store: SqliteStore, onExit: () => void = () => {}) {
  let dead = false;
  // After the crash nothing more reaches the store (a write in flight never completes).
  const repo: LogRepo = {
    appendChunk: (s, lines, marks) => (dead ? new Promise(() => {}) : store.logs.appendChunk(s, lines, marks)),
    read: (s, since, limit) => store.logs.read(s, since, limit),
    lastSeq: (s) => store.logs.lastSeq(s),
    deleteFor: (s) => store.logs.deleteFor(s),
  };
  const bus = new LogBus({ store: repo, flushIntervalMs: 50 });
  let runtime = 0;
  const watcher = new RuntimeWatcher(
    engine,
    () => (stream, text, mark) => {
      if (stream === "runtime") runtime++;
      bus.publish(STREAM, stream, text, mark);
    },
    onExit,
    store.logs,
  );
  return {
    bus,
    watcher,
    published: () => runtime,
    crash() {
      dead = true;
      watcher.stopAll();
    },
  };
}

async function storedLines(store: SqliteStore): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for (let next = 1; ; ) {
    const page = await store.logs.read(STREAM, next, 50_000);
    if (page.length === 0) return out;
    out.push(...page);
    next = page[page.length - 1]!.seq + 1;
  }
}

async function crashAndResume(name: string, n: number, resumeAfterExit: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-restart-"));
  const store = SqliteStore.open(join(dir, "kiln.db"));
  const id = await createBurstApp(engine, { name: `kiln-test-logs-restart-${name}-${RUN}`, n, width: 90, labels: LABELS });
  try {
    const first = kilnOn(store);
    await first.bus.open(STREAM);
    const since = Math.floor(Date.now() / 1000) - 1;
    await engine.startContainer(id);
    first.watcher.watch(STREAM, id, since);
    await until("a third of the burst ingested", async () => first.published() >= n / 3);
    first.crash();
    const storedAtCrash = await store.logs.lastSeq(STREAM);
    if (resumeAfterExit) {
      // Kiln stays down while the app writes the rest and exits.
      await until("the app to finish", async () => !(await engine.inspectContainer(id))?.running);
    }
    let exited!: () => void;
    const done = new Promise<void>((r) => (exited = r));
    const second = kilnOn(store, () => exited());
    await second.bus.open(STREAM);
    // As Kiln's boot does: watch the container, with no cursor in memory.
    second.watcher.watch(STREAM, id, since);
    await done;
    await second.bus.flush();
    const t = tally(await storedLines(store), n);
    return { ...t, storedAtCrash, publishedAtCrash: first.published() };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await engine.removeContainer(id).catch(() => {});
  }
}

test(
  "a Kiln that crashed mid-burst is followed by one that stores every line exactly once, in order",
  async () => {
    const n = 120_000;
    const t = await crashAndResume("live", n, false);
    // The crash really lost lines held in memory: the store had fewer than the first Kiln took.
    expect(t.storedAtCrash).toBeLessThan(t.publishedAtCrash);
    expect({ lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder, runtime: t.runtime, system: t.system }).toEqual({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      runtime: n,
      system: [],
    });
  },
  180_000,
);

test(
  "lines written while Kiln was down are stored when it comes back, once each",
  async () => {
    const n = 120_000;
    const t = await crashAndResume("down", n, true);
    expect(t.storedAtCrash).toBeLessThan(n);
    expect({ lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder, runtime: t.runtime, system: t.system }).toEqual({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      runtime: n,
      system: [],
    });
  },
  180_000,
);

/**
 * Ingest against the real engine: an app writes numbered lines as fast as it can and Kiln's
 * RuntimeWatcher follows it into the log bus and its SQLite store. With the shipped log config
 * every line is stored exactly once, in order, through two rotations of the json-file; with a file
 * so small that Docker's follow falls files behind, whatever is lost is said in the log.
 */
import { afterAll, expect, test } from "bun:test";
import { APP_LOG_CONFIG } from "../../src/adapters/docker/create-body.ts";
import { DockerEngine } from "../../src/adapters/docker/engine.ts";
import { LOST_IN_ROTATION } from "../../src/containers/runtime-watch.ts";
import { removeLabelled } from "../helpers/served-image.ts";
import { createBurstApp, startWithIngest, tally } from "./burst-app.ts";

const engine = new DockerEngine();
/** A run of its own: another run of this file at the same time must not remove this one's containers. */
const RUN = crypto.randomUUID().slice(0, 8);
const LABELS = { "kiln.test": "1", "kiln.test.suite": "logs-ingest", "kiln.test.run": RUN };
/** A json-file entry's bytes beyond the text: {"log":"…\n","stream":"stdout","time":"…"}\n */
const JSON_OVERHEAD = `{"log":"\\n","stream":"stdout","time":"2026-12-01T22:06:21.123456789Z"}\n`.length;

afterAll(() => removeLabelled(engine, LABELS));

async function burst(name: string, n: number, width: number, logConfig?: Record<string, string>, rewatchEvery?: number) {
  const id = await createBurstApp(engine, { name: `kiln-test-logs-ingest-${name}-${RUN}`, n, width, labels: LABELS, logConfig });
  const ingest = await startWithIngest(engine, id);
  let rewatches = 0;
  try {
    if (rewatchEvery) {
      // Break the follow each time another `rewatchEvery` lines came in, while the app still writes.
      let stop = false;
      void ingest.exited.then(() => (stop = true));
      while (!stop) {
        const at = ingest.count();
        if (at >= (rewatches + 1) * rewatchEvery && at < n) {
          ingest.rewatch();
          rewatches++;
        }
        await Bun.sleep(5);
      }
    }
    await ingest.exited;
    return { ...tally(await ingest.stored(), n), rewatches };
  } finally {
    await ingest.close();
    await engine.removeContainer(id);
  }
}

test(
  "a burst that rotates the shipped json-file twice is stored exactly once, in order",
  async () => {
    const n = 150_000;
    const width = 3000;
    const maxSize = Number.parseInt(APP_LOG_CONFIG.Config["max-size"]) * 1024 * 1024;
    expect(n * (10 + width + JSON_OVERHEAD)).toBeGreaterThan(2 * maxSize); // at least two rotations
    const t = await burst("shipped", n, width);
    expect({ lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder, runtime: t.runtime }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, runtime: n });
    // Nothing was lost; the only system line allowed is the cautious one Kiln writes when Docker
    // re-read a file and had already deleted the one before it, so that it could not recount.
    for (const line of t.system) expect(line).toStartWith("lines lost while the engine rotated its log, perhaps:");
  },
  300_000,
);

test(
  "with a json-file far smaller than the backlog, no line is stored twice and loss is never silent",
  async () => {
    const n = 300_000;
    const t = await burst("tiny", n, 90, { "max-size": "1m", "max-file": "2" });
    expect({ duplicated: t.duplicated, outOfOrder: t.outOfOrder }).toEqual({ duplicated: 0, outOfOrder: 0 });
    if (t.lost > 0) expect(t.system.some((s) => s.includes(LOST_IN_ROTATION))).toBe(true);
    console.log(`tiny json-file: ${t.runtime} of ${n} stored, ${t.lost} lost; said: ${t.system.join(" | ") || "nothing"}`);
  },
  300_000,
);

test(
  "a follow broken and resumed again and again mid-burst stores every line exactly once (seam by time and position)",
  async () => {
    const n = 300_000;
    const t = await burst("rewatch", n, 90, undefined, 40_000);
    expect(t.rewatches).toBeGreaterThan(0);
    expect({ lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder, runtime: t.runtime }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, runtime: n });
    expect(t.system).toEqual([]);
  },
  300_000,
);

import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkloadWatcher, type WorkloadChange } from "./watch.ts";

let dir: string;
let watcher: WorkloadWatcher | null = null;
let changes: WorkloadChange[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-spec-watch-"));
  changes = [];
});
afterEach(async () => {
  await watcher?.stop();
  watcher = null;
  await rm(dir, { recursive: true, force: true });
});

const workload = (id: string, image = "img:1") => `id: ${id}\nimage: ${image}\n`;
const ids = (specs: { id: string }[]) => specs.map((w) => w.id).sort();

/**
 * Waits for the next onChange (after `since` changes), at most `ms`: a deadline for a loaded
 * machine, well under the 60 s poll the fs-event tests set, so what arrives came from fs events.
 */
async function nextChange(since: number, ms = 10_000, reported = changes): Promise<WorkloadChange> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const c = reported[since];
    if (c) return c;
    await Bun.sleep(10);
  }
  throw new Error(`no change reported within ${ms} ms`);
}

function start(opts: { debounceMs?: number; pollMs?: number; env?: Record<string, string> } = {}) {
  watcher = new WorkloadWatcher({
    dir,
    env: opts.env ?? {},
    debounceMs: opts.debounceMs,
    pollMs: opts.pollMs ?? 60_000, // only fs events, unless a test wants the poll
    onChange: (c) => {
      changes.push(c);
    },
  });
  return watcher.start();
}

test("reports added, changed and removed files from fs events", async () => {
  await writeFile(join(dir, "a.yaml"), workload("alpha"));
  const first = await start();
  expect(ids(first.workloads)).toEqual(["alpha"]);
  expect(changes).toHaveLength(1);
  expect(ids(changes[0]!.added)).toEqual(["alpha"]);

  await writeFile(join(dir, "b.yaml"), workload("beta"));
  const added = await nextChange(1);
  expect([ids(added.added), added.changed, added.removed, added.errors]).toEqual([["beta"], [], [], []]);
  expect(added.added[0]!.file).toBe(join(dir, "b.yaml"));

  const oldHash = watcher!.current().workloads.find((w) => w.id === "alpha")!.hash;
  await writeFile(join(dir, "a.yaml"), workload("alpha", "img:2"));
  const changed = await nextChange(2);
  expect([changed.added, ids(changed.changed), changed.removed]).toEqual([[], ["alpha"], []]);
  expect(changed.changed[0]!.image).toBe("img:2");
  expect(changed.changed[0]!.hash).not.toBe(oldHash);

  await unlink(join(dir, "b.yaml"));
  const removed = await nextChange(3);
  expect([removed.added, removed.changed, ids(removed.removed)]).toEqual([[], [], ["beta"]]);
  expect(removed.removed[0]!.image).toBe("img:1");

  expect(ids(watcher!.current().workloads)).toEqual(["alpha"]);
});

test("a broken file is an error and the other workloads stay", async () => {
  await writeFile(join(dir, "a.yaml"), workload("alpha"));
  await writeFile(join(dir, "b.yaml"), workload("beta"));
  await start();

  await writeFile(join(dir, "c.yaml"), "id: gamma\nimage: [broken\n");
  const c = await nextChange(1);
  expect([c.added, c.changed, c.removed]).toEqual([[], [], []]);
  expect(c.errors.map((e) => e.file)).toEqual([join(dir, "c.yaml")]);
  expect(c.errors[0]!.message).toMatch(/c\.yaml: line 2: YAML syntax error/);
  expect(ids(watcher!.current().workloads)).toEqual(["alpha", "beta"]);

  // A valid file that breaks keeps serving its last valid version until fixed.
  await writeFile(join(dir, "a.yaml"), "id: alpha\nimage: img:1\npool: {max_size: 0}\n");
  const broken = await nextChange(2);
  expect([broken.added, broken.changed, broken.removed]).toEqual([[], [], []]);
  expect(broken.errors.map((e) => e.message)).toContain(`${join(dir, "a.yaml")}: pool.max_size: must be from 1 to 1000`);
  expect(ids(watcher!.current().workloads)).toEqual(["alpha", "beta"]);

  await writeFile(join(dir, "a.yaml"), workload("alpha", "img:fixed"));
  const fixed = await nextChange(3);
  expect(ids(fixed.changed)).toEqual(["alpha"]);
  expect(fixed.errors.map((e) => e.file)).toEqual([join(dir, "c.yaml")]);
});

test("a duplicate id is an error; the file that had the id keeps it", async () => {
  await writeFile(join(dir, "b.yaml"), workload("alpha"));
  await start();
  await writeFile(join(dir, "a.yaml"), workload("alpha", "img:other")); // sorts first, but came later
  const c = await nextChange(1);
  expect([c.added, c.changed, c.removed]).toEqual([[], [], []]);
  expect(c.errors.map((e) => e.message)).toEqual([`${join(dir, "a.yaml")}: id: "alpha" is already the id of ${join(dir, "b.yaml")}`]);
  expect(watcher!.current().workloads.map((w) => w.file)).toEqual([join(dir, "b.yaml")]);
});

test("the slow poll catches changes when events are slow to arrive", async () => {
  await start({ debounceMs: 30_000, pollMs: 200 });
  await writeFile(join(dir, "a.yaml"), workload("alpha"));
  const c = await nextChange(0, 10_000); // the debounce is 30 s: this change came from the poll
  expect(ids(c.added)).toEqual(["alpha"]);
});

test("a changed env value counts as a change; nothing is reported when nothing changed", async () => {
  const env: Record<string, string> = { TAG: "1" };
  await writeFile(join(dir, "a.yaml"), "id: alpha\nimage: img:${TAG}\n");
  watcher = new WorkloadWatcher({ dir, env: () => env, pollMs: 60_000, onChange: (c) => void changes.push(c) });
  await watcher.start();
  await watcher.rescan();
  expect(changes).toHaveLength(1);
  env.TAG = "2";
  await watcher.rescan();
  expect(changes).toHaveLength(2);
  expect(changes[1]!.changed.map((w) => w.image)).toEqual(["img:2"]);
});

test("stop() ends reporting", async () => {
  await start();
  await watcher!.stop();
  // A watcher still running on the same folder, with the same settings, is the clock: once it
  // has reported the new file, the stopped one would have too.
  const seen: WorkloadChange[] = [];
  const control = new WorkloadWatcher({ dir, env: {}, pollMs: 60_000, onChange: (c) => void seen.push(c) });
  await control.start();
  const before = seen.length;
  try {
    await writeFile(join(dir, "a.yaml"), workload("alpha"));
    expect(ids((await nextChange(before, 10_000, seen)).added)).toEqual(["alpha"]);
  } finally {
    await control.stop();
  }
  expect(changes).toHaveLength(0);
});

/** Unit tests for the build queue: FIFO per deployment, the build limit, light jobs, cancel and busy. Jobs are promises resolved by hand. */
import { describe, expect, spyOn, test } from "bun:test";
import { BuildQueue } from "./queue.ts";

/** A job whose run() records its start and waits until the test calls finish() (or its signal aborts). */
interface Handle {
  started: boolean;
  ended: boolean;
  signal: AbortSignal | null;
  finish(): void;
  fail(err: unknown): void;
  done: Promise<void>;
}

/** Log of start events, shared by the jobs of one test. */
type Log = string[];

function job(q: BuildQueue, log: Log, deploymentId: string, label: string, opts: { light?: boolean; endOnAbort?: boolean } = {}): Handle {
  const gate = Promise.withResolvers<void>();
  const h: Handle = {
    started: false,
    ended: false,
    signal: null,
    finish: () => gate.resolve(),
    fail: (err) => gate.reject(err),
    done: Promise.resolve(),
  };
  h.done = q.push({
    deploymentId,
    light: opts.light,
    async run(signal) {
      h.started = true;
      h.signal = signal;
      log.push(label);
      if (opts.endOnAbort) signal.addEventListener("abort", () => gate.resolve());
      try {
        await gate.promise;
      } finally {
        h.ended = true;
      }
    },
  });
  return h;
}

/** Lets queued microtasks (a finished job's .finally and the next pump) run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await Bun.sleep(1);
};

describe("BuildQueue", () => {
  test("runs a deployment's jobs in the order pushed, never two at once", async () => {
    const q = new BuildQueue(4);
    const log: Log = [];
    const a = job(q, log, "d1", "a");
    const b = job(q, log, "d1", "b", { light: true });
    const c = job(q, log, "d1", "c");
    await settle();
    expect(log).toEqual(["a"]);
    expect([b.started, c.started]).toEqual([false, false]);

    a.finish();
    await a.done;
    await settle();
    expect(log).toEqual(["a", "b"]);
    expect(c.started).toBe(false);

    b.finish();
    await settle();
    expect(log).toEqual(["a", "b", "c"]);
    c.finish();
    await Promise.all([b.done, c.done]);
    expect(q.busy("d1")).toBe(false);
  });

  test("runs at most `concurrency` builds at once across deployments, then the next in FIFO order", async () => {
    const q = new BuildQueue(2);
    const log: Log = [];
    const [d1, d2, d3, d4] = ["d1", "d2", "d3", "d4"].map((d) => job(q, log, d, d)) as [Handle, Handle, Handle, Handle];
    await settle();
    expect(log).toEqual(["d1", "d2"]);

    d2.finish();
    await settle();
    expect(log).toEqual(["d1", "d2", "d3"]);
    expect(d4.started).toBe(false);

    d1.finish();
    await settle();
    expect(log).toEqual(["d1", "d2", "d3", "d4"]);
    d3.finish();
    d4.finish();
    await Promise.all([d1.done, d2.done, d3.done, d4.done]);
  });

  test("different deployments build side by side", async () => {
    const q = new BuildQueue(3);
    const log: Log = [];
    const hs = ["x", "y", "z"].map((d) => job(q, log, d, d));
    await settle();
    expect(hs.map((h) => h.started)).toEqual([true, true, true]);
    for (const h of hs) h.finish();
    await Promise.all(hs.map((h) => h.done));
  });

  test("a light job runs while the build slots are full", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    const build = job(q, log, "d1", "build");
    const queued = job(q, log, "d2", "queued-build");
    const light = job(q, log, "d3", "rollback", { light: true });
    await settle();
    expect(log).toEqual(["build", "rollback"]);
    expect(queued.started).toBe(false);

    light.finish();
    await light.done;
    expect(queued.started).toBe(false); // the light job's end frees no build slot
    build.finish();
    await settle();
    expect(queued.started).toBe(true);
    queued.finish();
    await queued.done;
  });

  test("running light jobs do not use up build slots", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    const light = job(q, log, "d1", "light", { light: true });
    const build = job(q, log, "d2", "build");
    await settle();
    expect(log).toEqual(["light", "build"]);
    light.finish();
    build.finish();
    await Promise.all([light.done, build.done]);
  });

  test("a light job still waits for its own deployment's earlier job", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    const other = job(q, log, "d0", "other-build"); // fills the only slot
    const build = job(q, log, "d1", "d1-build"); // waits for a slot
    const light = job(q, log, "d1", "d1-light", { light: true }); // behind d1's build
    await settle();
    expect(log).toEqual(["other-build"]);
    expect(light.started).toBe(false);

    other.finish();
    await settle();
    expect(log).toEqual(["other-build", "d1-build"]);
    expect(light.started).toBe(false);

    build.finish();
    await settle();
    expect(log).toEqual(["other-build", "d1-build", "d1-light"]);
    light.finish();
    await Promise.all([other.done, build.done, light.done]);
  });

  test("cancel aborts the running job's signal, drops waiting ones, and resolves when the job has ended", async () => {
    const q = new BuildQueue(2);
    const log: Log = [];
    const running = job(q, log, "d1", "running", { endOnAbort: true });
    const waiting = job(q, log, "d1", "waiting");
    const other = job(q, log, "d2", "other");
    await settle();
    expect(log).toEqual(["running", "other"]);

    await q.cancel("d1");
    expect(running.signal?.aborted).toBe(true);
    expect(running.ended).toBe(true);
    await waiting.done; // a dropped job's push() still resolves
    await settle();
    expect(waiting.started).toBe(false);
    expect(q.busy("d1")).toBe(false);

    expect(other.signal?.aborted).toBe(false); // other deployments are untouched
    expect(q.busy("d2")).toBe(true);
    other.finish();
    await other.done;
  });

  test("cancel waits for a job that ignores its signal", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    const stubborn = job(q, log, "d1", "stubborn");
    await settle();
    let cancelled = false;
    const c = q.cancel("d1").then(() => (cancelled = true));
    await settle();
    expect(stubborn.signal?.aborted).toBe(true);
    expect(cancelled).toBe(false);
    stubborn.finish();
    await c;
    expect(cancelled).toBe(true);
  });

  test("cancel of a deployment with only waiting jobs frees the queue for the next", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    const first = job(q, log, "d1", "first");
    const dropped = job(q, log, "d2", "dropped");
    const next = job(q, log, "d3", "next");
    await settle();
    await q.cancel("d2");
    await dropped.done;
    first.finish();
    await settle();
    expect(log).toEqual(["first", "next"]);
    next.finish();
    await next.done;
  });

  test("busy() is true while a deployment has a job queued or running", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    expect(q.busy("d1")).toBe(false);
    const a = job(q, log, "d0", "a");
    const b = job(q, log, "d1", "b");
    expect(q.busy("d1")).toBe(true); // queued
    a.finish();
    await settle();
    expect(b.started).toBe(true);
    expect(q.busy("d1")).toBe(true); // running
    b.finish();
    await b.done;
    expect(q.busy("d1")).toBe(false);
    expect(q.busy("d0")).toBe(false);
  });

  test("a failing job frees its slot and its push() still resolves", async () => {
    const q = new BuildQueue(1);
    const log: Log = [];
    const errors = spyOn(console, "error").mockImplementation(() => {});
    try {
      const bad = job(q, log, "d1", "bad");
      const next = job(q, log, "d1", "next");
      bad.fail(new Error("boom"));
      await bad.done;
      await settle();
      expect(next.started).toBe(true);
      next.finish();
      await next.done;

      // a run() that throws before returning a promise is treated the same
      const sync = q.push({
        deploymentId: "d2",
        run: () => {
          throw new Error("sync boom");
        },
      });
      await sync;
      expect(q.busy("d2")).toBe(false);
      expect(errors).toHaveBeenCalledTimes(2);
    } finally {
      errors.mockRestore();
    }
  });
});

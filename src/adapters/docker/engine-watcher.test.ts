/**
 * EngineWatcher against a fake engine on a unix socket: events are decoded and fanned out; a stream
 * that ends is `lost`, the engine is pinged until it answers, and the reconnected stream is `back`.
 * (Against the real engine: test/recovery/apps.test.ts.)
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "../../core/ports/engine-events.ts";
import { EngineWatcher } from "./engine-watcher.ts";

const captured = readFileSync(join(import.meta.dir, "testdata/events.jsonl"), "utf8").trim().split("\n");
let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

test("decodes the stream, says lost when it ends, pings until the engine answers, then back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fake-events-"));
  const socketPath = join(dir, "docker.sock");
  const seen: string[] = [];
  let pings = 0;
  let streams = 0;
  const server = Bun.serve({
    unix: socketPath,
    fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname.replace(/^\/v[\d.]+/, "");
      seen.push(path);
      if (path === "/_ping") return new Response(++pings <= 3 ? "down" : "OK", { status: pings <= 3 ? 500 : 200 });
      expect(JSON.parse(url.searchParams.get("filters")!)).toEqual({ type: ["container"], label: ["kiln.managed=true"] });
      streams++;
      // First stream: create and start (and an exec line to skip), then the engine "goes away".
      // Second: the die, and the stream stays open until the watcher stops.
      const lines = streams === 1 ? captured.slice(0, 3) : [captured[5]!];
      return new Response(
        new ReadableStream({
          start(c) {
            for (const l of lines) c.enqueue(new TextEncoder().encode(`${l}\n`));
            if (streams === 1) c.close();
          },
        }),
      );
    },
  });
  cleanup.push(() => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  const errors: unknown[] = [];
  const watcher = new EngineWatcher({ socketPath, minDelayMs: 5, maxDelayMs: 20, onListenerError: (e) => errors.push(e) });
  watcher.subscribe(() => {
    throw new Error("a listener that throws does not stop the others");
  });
  const events: EngineEvent[] = [];
  let sawDie!: () => void;
  const died = new Promise<void>((r) => (sawDie = r));
  watcher.subscribe((e) => {
    events.push(e);
    if (e.kind === "container" && e.action === "die") sawDie();
  });
  await watcher.start();
  await died;
  await watcher.stop();

  expect(events.map((e) => (e.kind === "engine" ? e.state : e.action))).toEqual(["create", "start", "lost", "back", "die"]);
  expect(events.find((e) => e.kind === "container" && e.action === "die")).toMatchObject({ exitCode: 137 });
  expect(seen).toEqual(["/events", "/_ping", "/_ping", "/_ping", "/_ping", "/events"]);
  expect([watcher.connects, watcher.losses]).toEqual([2, 1]);
  expect(errors).toHaveLength(5);
});

test("an engine never reached: nothing is said, and stop() returns", async () => {
  const watcher = new EngineWatcher({ socketPath: "/nonexistent/docker.sock", minDelayMs: 5, maxDelayMs: 10 });
  const events: EngineEvent[] = [];
  const off = watcher.subscribe((e) => events.push(e));
  await watcher.start();
  off();
  await watcher.stop();
  // It never connected: nothing was lost, so nothing is said.
  expect(events).toEqual([]);
  expect(watcher.connects).toBe(0);
});

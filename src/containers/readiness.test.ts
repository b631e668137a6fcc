/** The readiness loop's logic against a scripted runtime (the HTTP probe talks to real loopback servers). */
import { afterAll, expect, test } from "bun:test";
import type { ContainerInfo, ContainerRuntime } from "../core/ports/runtime.ts";
import { NotReady, waitUntilReady, type Probe } from "./readiness.ts";

const base: ContainerInfo = {
  id: "c1", name: "x", image: "i", labels: {}, running: true, status: "running", exitCode: 0, restartCount: 0,
  published: "127.0.0.1:1", health: null, paused: false,
};

/** A runtime whose inspect answers follow `states` (the last one repeats); counts its calls. */
function scripted(states: (Partial<ContainerInfo> | null)[], tail: string[] = ["boom"]) {
  let i = 0;
  const calls = { inspect: 0, tail: 0 };
  const runtime: Pick<ContainerRuntime, "inspectContainer" | "tailLogs"> = {
    async inspectContainer() {
      calls.inspect++;
      const s = states[Math.min(i++, states.length - 1)]!;
      return s === null ? null : { ...base, ...s };
    },
    async tailLogs() {
      calls.tail++;
      return tail;
    },
  };
  return { runtime, calls };
}

const wait = (runtime: Pick<ContainerRuntime, "inspectContainer" | "tailLogs">, probe: Probe, timeoutMs = 5000, signal?: AbortSignal) =>
  waitUntilReady({ runtime, containerId: "c1", probe, timeoutMs, signal, name: "the thing", pollMs: 1 });

const reason = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as NotReady);

const app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("nope", { status: 500 }) });
const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
const deadAddress = `127.0.0.1:${dead.port}`;
dead.stop(true);
afterAll(() => app.stop(true));

test("http: any answer, whatever its status, is ready; Docker is not asked", async () => {
  const { runtime, calls } = scripted([{}]);
  await wait(runtime, { kind: "http", address: `127.0.0.1:${app.port}` });
  expect(calls.inspect).toBe(0);
});

test("http: a container that exits is reported with its code and last lines", async () => {
  const { runtime, calls } = scripted([{ running: false, status: "exited", exitCode: 3 }], ["starting", "boom"]);
  const err = await reason(wait(runtime, { kind: "http", address: deadAddress }));
  expect(err).toBeInstanceOf(NotReady);
  expect([err!.reason, err!.message]).toEqual(["exited", "the thing exited with code 3 before accepting connections; last lines:\nstarting\nboom"]);
  expect(calls.inspect).toBe(1); // asked once, after ten unanswered polls
});

test("http: a container Docker already restarted (on-failure) is watched for its next exit code", async () => {
  const { runtime } = scripted([{ restartCount: 1 }, { restartCount: 1 }, { status: "restarting", running: true, exitCode: 7, restartCount: 1 }], []);
  const err = await reason(wait(runtime, { kind: "http", address: deadAddress }));
  expect(err!.message).toBe("the thing exited with code 7 before accepting connections");
});

test("http: nothing answering within the timeout", async () => {
  const { runtime } = scripted([{}]);
  const err = await reason(wait(runtime, { kind: "http", address: deadAddress }, 0));
  expect([err!.reason, err!.message]).toEqual(["timeout", "the thing did not accept HTTP connections within 0 s"]);
});

test("healthcheck: waits through starting until healthy", async () => {
  const { runtime, calls } = scripted([{ status: "created", running: false }, { health: "starting" }, { health: "starting" }, { health: "healthy" }]);
  await wait(runtime, { kind: "healthcheck" });
  expect(calls.inspect).toBe(4);
});

test("healthcheck: unhealthy fails at once, without last lines", async () => {
  const { runtime, calls } = scripted([{ health: "starting" }, { health: "unhealthy" }]);
  const err = await reason(wait(runtime, { kind: "healthcheck" }));
  expect([err!.reason, err!.message, calls.tail]).toEqual(["unhealthy", "the thing failed its healthcheck", 0]);
});

test("running: ready once it runs; a vanished container is reported as such", async () => {
  await wait(scripted([{ status: "created", running: false }, {}]).runtime, { kind: "running" });
  const err = await reason(wait(scripted([null]).runtime, { kind: "running" }));
  expect([err!.reason, err!.message]).toEqual(["exited", "the thing disappeared before running"]);
});

test("the signal cancels the wait", async () => {
  const ac = new AbortController();
  ac.abort(new Error("cancelled"));
  const err = await reason(wait(scripted([{ health: "starting" }]).runtime, { kind: "healthcheck" }, 5000, ac.signal));
  expect((err as unknown as Error).message).toBe("cancelled");
});

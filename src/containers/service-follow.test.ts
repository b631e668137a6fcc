/**
 * ServiceFollow's logic against a scripted Swarm (the real one is in test/swarm/logs.test.ts): lines
 * of two tasks interleaved with times going down between tasks are all taken; a read again after a
 * break takes none twice; marks restored from the store resume each task after its last stored
 * line; an ended task is read to its end through its own log; a service gone ends the follow.
 */
import { expect, test } from "bun:test";
import type { SourceMark } from "../core/logs.ts";
import type { ServiceInfo, TaskInfo } from "../adapters/swarm/client.ts";
import type { ServiceLogEntry, ServiceLogRead } from "../adapters/swarm/service-logs.ts";
import { ServiceFollow, type ServiceLogSource } from "./service-follow.ts";

const task = (id: string, state: string, createdAt = "1970-01-01T00:00:00Z"): TaskInfo =>
  ({ id, slot: 1, nodeId: "n", desiredState: state === "running" ? "running" : "shutdown", state, error: null, image: "i", containerId: "c", addresses: {}, updatedAt: createdAt, createdAt });

/** A Swarm whose service reads give `reads[k]` (entries at or after `since`), then end; after them, the service is gone. */
function scripted(tasks: TaskInfo[], reads: ServiceLogEntry[][], taskLogs: Record<string, ServiceLogEntry[]> = {}) {
  const asked: { since?: bigint }[] = [];
  const drained: { task: string; since?: bigint }[] = [];
  let k = 0;
  const swarm: ServiceLogSource = {
    inspectService: async () => (k < reads.length ? ({ id: "svc" } as ServiceInfo) : null),
    listTasks: async () => tasks,
    serviceLogs: async (_s: string, o: ServiceLogRead) => {
      asked.push({ ...(o.since === undefined ? {} : { since: o.since }) });
      for (const e of reads[k++] ?? []) if (o.since === undefined || e.ns >= o.since) o.onEntry(e);
    },
    taskLogs: async (t: string, o: ServiceLogRead) => {
      drained.push({ task: t, ...(o.since === undefined ? {} : { since: o.since }) });
      for (const e of taskLogs[t] ?? []) if (o.since === undefined || e.ns >= o.since) o.onEntry(e);
    },
  };
  return { swarm, asked, drained };
}

const e = (task: string, ns: number, text: string, stream: "stdout" | "stderr" = "stdout"): ServiceLogEntry => ({ task, stream, ns: BigInt(ns), text });

function collect() {
  const lines: string[] = [];
  const marks: SourceMark[] = [];
  return { lines, marks, sink: (_s: string, text: string, mark?: SourceMark) => (lines.push(text), mark && marks.push(mark)) };
}

const noMarks = { sourceMarks: async () => ({ marks: [], keptSince: 0 }), forgetSource: async () => {} };

test("two tasks' interleaved lines are all taken, once, across a read again", async () => {
  const a = e("A", 100, "a1"), b = e("B", 90, "b1"), a2 = e("A", 110, "a2"), b2 = e("B", 95, "b2");
  const { swarm, asked } = scripted([task("A", "running"), task("B", "running")], [[a, b, a2], [b, a2, b2, a, e("A", 120, "a3")]]);
  const out = collect();
  await new ServiceFollow(swarm, noMarks, "swarm:", 1, 10).follow("swarm:svc", out.sink, new AbortController().signal);
  expect(out.lines).toEqual(["a1", "b1", "a2", "b2", "a3"]);
  expect(asked[0]!.since).toBe(0n); // tasks with nothing taken yet: from their creation
  // The read again starts at the earliest resume point of the running tasks: B's last line.
  expect(asked[1]!.since).toBe(90n);
  expect(out.marks.map((m) => m.container)).toEqual(["swarm:svc@A", "swarm:svc@B", "swarm:svc@A", "swarm:svc@B", "swarm:svc@A"]);
});

test("stored marks resume each task after its last stored line; an ended task is read to its end once", async () => {
  const marks = async (c: string) => ({
    marks: c === "swarm:svc@A" ? [{ container: c, output: "stdout" as const, ns: 100n, count: 1 }] : c === "swarm:svc@OLD" ? [{ container: c, output: "stdout" as const, ns: 50n, count: 1 }] : [],
    keptSince: 0,
  });
  const old = [e("OLD", 40, "o0"), e("OLD", 50, "o1"), e("OLD", 60, "o2")];
  const { swarm, asked, drained } = scripted([task("A", "running"), task("OLD", "shutdown")], [[e("A", 90, "a0"), e("A", 100, "a1"), e("A", 105, "a2")]], { OLD: old });
  const out = collect();
  await new ServiceFollow(swarm, { sourceMarks: marks, forgetSource: async () => {} }, "swarm:", 1, 10).follow("swarm:svc", out.sink, new AbortController().signal);
  expect(drained).toEqual([{ task: "OLD", since: 50n }]);
  expect(asked).toEqual([{ since: 100n }]); // the ended task does not hold the service's read back
  expect(out.lines).toEqual(["o2", "a2"]);
});

import { describe, expect, test } from "bun:test";
import { StatsSampler, type SampledDeployment } from "./sampler.ts";
import type { ContainerCounters } from "./sample.ts";

/** The sampler's logic over a scripted engine: counters per container, advanced by the test. */
function scripted() {
  let now = 1_000_000;
  const cpu = new Map<string, number>();
  const reader = {
    counters: async (id: string): Promise<ContainerCounters | null> =>
      cpu.has(id) ? { readAt: now, cpuTotalNs: cpu.get(id)!, systemCpuNs: null, onlineCpus: 1, memoryBytes: 10, memoryLimitBytes: 100, netRxBytes: 0, netTxBytes: 0 } : null,
  };
  let deployments: SampledDeployment[] = [];
  const sampler = new StatsSampler({ deployments: async () => deployments, domains: async () => [], reader, publicHost: "localhost", now: () => now });
  return {
    sampler,
    cpu,
    set: (d: SampledDeployment[]) => (deployments = d),
    advance: (ms: number) => (now += ms),
  };
}

describe("StatsSampler", () => {
  test("one sample per deployment per interval: replicas summed, requests per second over the interval", async () => {
    const s = scripted();
    s.set([{ id: "d1", name: "a", instances: [{ containerId: "c1" }, { containerId: "c2" }] }]);
    s.cpu.set("c1", 0).set("c2", 0);
    s.advance(10_000);
    await s.sampler.sampleNow();
    for (let i = 0; i < 20; i++) s.sampler.request({ host: "a.localhost", uri: "/", status: i < 15 ? 200 : 503, durationMs: 4 });
    s.sampler.request({ host: "b.localhost", uri: "/", status: 200, durationMs: 4 }); // nobody's
    s.cpu.set("c1", 1e9).set("c2", 2e9);
    s.advance(10_000);
    await s.sampler.sampleNow();
    const [first, second] = s.sampler.series("d1");
    expect(first!.cpuPercent).toBeNull();
    expect(first!.memoryBytes).toBe(20);
    expect(first!.requestsPerSec).toBe(0);
    expect(second!.cpuPercent).toBeCloseTo(30, 6); // 3 CPU-seconds in 10 s
    expect(second!.requestsPerSec).toBeCloseTo(2, 6);
    expect(second!.status).toEqual({ "2xx": 15, "3xx": 0, "4xx": 0, "5xx": 5 });
    expect(second!.latencyP50Ms! / 4).toBeCloseTo(1, 1);
  });

  test("requests that came before the sampler knew the app (or its domain) still count for it", async () => {
    const s = scripted();
    s.set([{ id: "d1", name: "a", instances: [] }]);
    s.sampler.request({ host: "a.localhost", uri: "/", status: 200, durationMs: 1 });
    s.sampler.request({ host: "localhost:8080", uri: "/d/d1/x", status: 404, durationMs: 1 });
    s.advance(10_000);
    await s.sampler.sampleNow();
    expect(s.sampler.series("d1")[0]!.status).toEqual({ "2xx": 1, "3xx": 0, "4xx": 1, "5xx": 0 });
  });

  test("a deleted deployment's samples are dropped; a gone container is left out", async () => {
    const s = scripted();
    s.set([{ id: "d1", name: "a", instances: [{ containerId: "gone" }] }]);
    await s.sampler.sampleNow();
    expect(s.sampler.series("d1")[0]!.memoryBytes).toBeNull();
    s.set([]);
    await s.sampler.sampleNow();
    expect(s.sampler.series("d1")).toEqual([]);
  });

  test("at most an hour kept", async () => {
    const s = scripted();
    s.set([{ id: "d1", name: "a", instances: [] }]);
    for (let i = 0; i < 365; i++) {
      s.advance(10_000);
      await s.sampler.sampleNow();
    }
    expect(s.sampler.series("d1").length).toBe(360);
  });
});

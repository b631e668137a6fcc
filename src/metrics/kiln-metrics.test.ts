import { expect, test } from "bun:test";
import { createKilnMetrics } from "./kiln-metrics.ts";

test("pool members are counted at scrape time by workload and status, a known pool's zeros included", async () => {
  const m = createKilnMetrics();
  let members = [
    { workloadId: "echo", status: "ready" },
    { workloadId: "echo", status: "ready" },
    { workloadId: "echo", status: "claimed" },
    { workloadId: "gone", status: "draining" }, // a removed workload's member still shows
  ];
  m.observe({
    poolMembers: async () => members,
    workloads: () => ["echo", "idle"],
    memberStatuses: ["warming", "ready", "claimed"],
    wsSubscribers: () => 4,
    illegalMoves: { refiller: () => 2 },
  });
  const text = await m.registry.render();
  expect(text.split("\n").filter((l) => l.startsWith("kiln_pool_members"))).toEqual([
    'kiln_pool_members{workload="echo",status="warming"} 0',
    'kiln_pool_members{workload="echo",status="ready"} 2',
    'kiln_pool_members{workload="echo",status="claimed"} 1',
    'kiln_pool_members{workload="idle",status="warming"} 0',
    'kiln_pool_members{workload="idle",status="ready"} 0',
    'kiln_pool_members{workload="idle",status="claimed"} 0',
    'kiln_pool_members{workload="gone",status="warming"} 0',
    'kiln_pool_members{workload="gone",status="ready"} 0',
    'kiln_pool_members{workload="gone",status="claimed"} 0',
    'kiln_pool_members{workload="gone",status="draining"} 1',
  ]);
  expect(text).toContain("\nkiln_ws_subscribers 4\n");
  expect(text).toContain('\nkiln_illegal_transitions_total{component="refiller"} 2\n');
  // the next scrape starts afresh: a member gone is no longer counted
  members = [];
  expect(await m.registry.render()).toContain('kiln_pool_members{workload="echo",status="ready"} 0\n');
});

test("the event callbacks convert milliseconds to seconds and split dropped lines from published ones", async () => {
  const m = createKilnMetrics();
  m.claimed("pool", 12.5);
  m.stepDone("build", 1500);
  m.buildDone("failed");
  m.linesPublished("build", 3, false);
  m.linesPublished("runtime", 2, true);
  const text = await m.registry.render();
  expect(text).toContain('kiln_claim_duration_seconds_sum{source="pool"} 0.0125\n');
  expect(text).toContain('kiln_build_step_duration_seconds_bucket{step="build",le="2.5"} 1\n');
  expect(text).toContain('kiln_build_step_duration_seconds_bucket{step="build",le="1"} 0\n');
  expect(text).toContain('kiln_builds_total{result="failed"} 1\n');
  expect(text).toContain('kiln_log_lines_total{stream="build"} 3\n');
  expect(text).not.toContain('stream="runtime"');
  expect(text).toContain("\nkiln_log_lines_dropped_total 2\n");
});

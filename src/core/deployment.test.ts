import { describe, expect, test } from "bun:test";
import { buildLifecycle, deploymentLifecycle, type BuildStatus, type DeploymentStatus } from "./deployment.ts";
import { IllegalMove, type Lifecycle } from "./lifecycle.ts";

/** Every pair of statuses: allowed exactly when listed in `moves`. */
function expectExactly<S extends string>(lc: Lifecycle<S>, moves: Record<S, S[]>): void {
  for (const from of lc.statuses) {
    for (const to of lc.statuses) expect([from, to, lc.can(from, to)]).toEqual([from, to, moves[from].includes(to)]);
  }
}

describe("deployment lifecycle", () => {
  const moves: Record<DeploymentStatus, DeploymentStatus[]> = {
    queued: ["building", "running", "failed", "stopped"],
    building: ["deploying", "running", "failed", "stopped"],
    deploying: ["running", "failed", "stopped"],
    running: ["running", "crashlooping", "failed", "stopped"],
    crashlooping: ["crashlooping", "running", "queued", "failed", "stopped"],
    failed: ["queued", "building", "running", "failed", "stopped"],
    stopped: ["queued", "stopped"],
  };

  test("allows exactly the listed moves", () => {
    expect([...deploymentLifecycle.statuses].sort()).toEqual((Object.keys(moves) as DeploymentStatus[]).sort());
    expectExactly(deploymentLifecycle, moves);
  });

  test("refuses the moves that would lie about the app", () => {
    // a running app's redeploy stays running: it never shows queued/building while it serves
    for (const to of ["queued", "building", "deploying"] as const) expect(deploymentLifecycle.can("running", to)).toBe(false);
    expect(deploymentLifecycle.can("stopped", "running")).toBe(false);
    expect(deploymentLifecycle.can("stopped", "building")).toBe(false);
    expect(deploymentLifecycle.can("queued", "deploying")).toBe(false);
    expect(deploymentLifecycle.can("queued", "queued")).toBe(false);
    // a crash loop comes only from a running app, and a redeploy of it starts over
    for (const from of ["queued", "building", "deploying", "failed", "stopped"] as const) expect(deploymentLifecycle.can(from, "crashlooping")).toBe(false);
    expect(deploymentLifecycle.can("crashlooping", "building")).toBe(false);
    expect(() => deploymentLifecycle.assert("running", "building", "test", "abc")).toThrow(
      new IllegalMove("deployment", "abc", "running", "building", "test", []),
    );
  });

  test("every status can be stopped, and none is final", () => {
    for (const s of deploymentLifecycle.statuses) expect(deploymentLifecycle.can(s, "stopped")).toBe(true);
    expect(deploymentLifecycle.finals()).toEqual([]);
  });
});

describe("build lifecycle", () => {
  const moves: Record<BuildStatus, BuildStatus[]> = {
    queued: ["running", "failed", "cancelled"],
    running: ["succeeded", "failed", "cancelled"],
    succeeded: [],
    failed: [],
    cancelled: [],
  };

  test("allows exactly the listed moves", () => {
    expect([...buildLifecycle.statuses].sort()).toEqual((Object.keys(moves) as BuildStatus[]).sort());
    expectExactly(buildLifecycle, moves);
  });

  test("refuses going back or skipping the run", () => {
    expect(buildLifecycle.can("queued", "succeeded")).toBe(false);
    expect(buildLifecycle.can("running", "queued")).toBe(false);
    expect(buildLifecycle.can("running", "running")).toBe(false);
    expect(buildLifecycle.can("failed", "running")).toBe(false);
  });

  test("an ended build has no exits", () => {
    expect(buildLifecycle.finals()).toEqual(["succeeded", "failed", "cancelled"]);
    for (const f of buildLifecycle.finals()) for (const to of buildLifecycle.statuses) expect(buildLifecycle.can(f, to)).toBe(false);
  });
});

import { describe, expect, test } from "bun:test";
import type { Lifecycle } from "./lifecycle.ts";
import { memberLifecycle, tenantLifecycle, type MemberStatus, type TenantStatus } from "./pool.ts";

/** Every pair of statuses: allowed exactly when listed in `moves`. */
function expectExactly<S extends string>(lc: Lifecycle<S>, moves: Record<S, S[]>): void {
  expect([...lc.statuses].sort()).toEqual((Object.keys(moves) as S[]).sort());
  for (const from of lc.statuses) {
    for (const to of lc.statuses) expect([from, to, lc.can(from, to)]).toEqual([from, to, moves[from].includes(to)]);
  }
}

describe("pool member lifecycle", () => {
  const moves: Record<MemberStatus, MemberStatus[]> = {
    warming: ["ready", "destroyed"],
    ready: ["claimed", "draining", "destroyed"],
    claimed: ["releasing", "destroyed"],
    releasing: ["claimed", "destroyed"],
    draining: ["destroyed"],
    destroyed: [],
  };

  test("allows exactly the listed moves", () => expectExactly(memberLifecycle, moves));

  test("refuses a second life and claims of anything not ready", () => {
    expect(memberLifecycle.can("draining", "claimed")).toBe(false);
    expect(memberLifecycle.can("warming", "claimed")).toBe(false); // a cold start is born claimed
    expect(memberLifecycle.can("claimed", "ready")).toBe(false); // a member never serves a second tenant
    expect(memberLifecycle.can("claimed", "claimed")).toBe(false);
    expect(memberLifecycle.sourcesOf("claimed")).toEqual(["ready", "releasing"]);
  });

  test("destroyed is the only final status, with no exits", () => {
    expect(memberLifecycle.finals()).toEqual(["destroyed"]);
    for (const to of memberLifecycle.statuses) expect(memberLifecycle.can("destroyed", to)).toBe(false);
  });
});

describe("tenant lifecycle", () => {
  const moves: Record<TenantStatus, TenantStatus[]> = {
    released: ["released", "claimed"],
    claimed: ["claimed", "releasing", "released"],
    releasing: ["releasing", "release_failed", "released"],
    release_failed: ["release_failed", "releasing", "released"],
  };

  test("allows exactly the listed moves", () => expectExactly(tenantLifecycle, moves));

  test("refuses skipping the release or claiming mid-release", () => {
    expect(tenantLifecycle.can("claimed", "release_failed")).toBe(false);
    expect(tenantLifecycle.can("releasing", "claimed")).toBe(false);
    expect(tenantLifecycle.can("release_failed", "claimed")).toBe(false);
    expect(tenantLifecycle.can("released", "releasing")).toBe(false);
  });

  test("no status is final: a released tenant may claim again", () => {
    expect(tenantLifecycle.finals()).toEqual([]);
    expect(tenantLifecycle.can("released", "claimed")).toBe(true);
  });
});

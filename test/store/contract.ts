/**
 * The behaviour every Store must have, written once. Run it against each implementation:
 *
 *   storeContract("sqlite", async () => SqliteStore.open(tmpPath()));
 *
 * `makeStore` must return a fresh, empty store each call; the suite closes it after each test.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Build, Deployment } from "../../src/core/deployment.ts";
import { KilnError, type ErrorKind } from "../../src/core/errors.ts";
import { IllegalMove } from "../../src/core/lifecycle.ts";
import type { LogLine } from "../../src/core/logs.ts";
import type { PoolMember, TenantClaim } from "../../src/core/pool.ts";
import type { Store } from "../../src/core/ports/store.ts";
import { DEFAULT_SETTINGS } from "../../src/core/settings.ts";
import type { Release } from "../../src/core/release.ts";

export function storeContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    describe("deployments", () => {
      test("insert, get, getByName and list round-trip every field", async () => {
        const git = deployment({ id: "dep-a", name: "alpha", createdAt: 1000 });
        const tarball = deployment({
          id: "dep-b",
          name: "beta",
          source: { kind: "tarball", uploadId: "up-1", filename: "app.tar.gz" },
          envKeys: [],
          networks: ["shared-db", "cache"],
          status: "running",
          currentBuildId: "b-1",
          failureReason: "boom",
          instances: [{ containerId: "c0ffee", upstream: "127.0.0.1:41000" }, { containerId: "beef", upstream: null }],
          settings: { ...DEFAULT_SETTINGS, replicas: 2, volumes: [{ name: "data", path: "/data" }] },
          currentReleaseId: "rel-1",
          createdAt: 2000,
        });
        await store.deployments.insert(git);
        await store.deployments.insert(tarball);

        expect(await store.deployments.get("dep-a")).toEqual(git);
        expect(await store.deployments.getByName("beta")).toEqual(tarball);
        expect(await store.deployments.list()).toEqual([git, tarball]);
        expect(await store.deployments.get("nope")).toBeNull();
        expect(await store.deployments.getByName("nope")).toBeNull();
      });

      test("a taken name is a conflict", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "same" }));
        await expectKind(store.deployments.insert(deployment({ id: "dep-b", name: "same" })), "conflict");
        await store.deployments.insert(deployment({ id: "dep-c", name: "other" }));
        await expectKind(store.deployments.update("dep-c", { name: "same" }), "conflict");
        expect((await store.deployments.get("dep-c"))?.name).toBe("other");
      });

      test("a taken id is a conflict", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "one" }));
        await expectKind(store.deployments.insert(deployment({ id: "dep-a", name: "two" })), "conflict");
      });

      test("update sets only the given fields, returns the row and bumps updatedAt", async () => {
        const d = deployment({ id: "dep-a", name: "alpha", createdAt: 1000, updatedAt: 1000 });
        await store.deployments.insert(d);
        const updated = await store.deployments.update("dep-a", {
          status: "building",
          envKeys: ["A", "B"],
          source: { kind: "git", url: "https://example.com/x.git", ref: "dev", hasToken: true },
          instances: [{ containerId: "c1", upstream: "127.0.0.1:40001" }],
        });
        expect(updated).toEqual({
          ...d,
          status: "building",
          envKeys: ["A", "B"],
          source: { kind: "git", url: "https://example.com/x.git", ref: "dev", hasToken: true },
          instances: [{ containerId: "c1", upstream: "127.0.0.1:40001" }],
          updatedAt: updated.updatedAt,
        });
        expect(updated.updatedAt).toBeGreaterThan(1000);
        expect(await store.deployments.get("dep-a")).toEqual(updated);

        const cleared = await store.deployments.update("dep-a", { instances: [], updatedAt: 5 });
        expect(cleared.instances).toEqual([]);
        expect(cleared.updatedAt).toBe(5);
        expect(cleared.createdAt).toBe(1000);
      });

      test("update of a missing deployment is not_found", async () => {
        await expectKind(store.deployments.update("nope", { status: "failed" }), "not_found");
      });

      test("delete removes the deployment with its builds and logs; a missing id is a no-op", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        await store.deployments.insert(deployment({ id: "dep-b", name: "beta" }));
        await store.builds.insert(build({ id: "b-a1", deploymentId: "dep-a", number: 1 }));
        await store.builds.insert(build({ id: "b-b1", deploymentId: "dep-b", number: 1 }));
        await store.logs.appendChunk("dep-a", lines(1, 3));
        await store.logs.appendChunk("dep-b", lines(1, 2));

        await store.deployments.delete("dep-a");
        expect(await store.deployments.get("dep-a")).toBeNull();
        expect(await store.builds.get("b-a1")).toBeNull();
        expect(await store.builds.listFor("dep-a")).toEqual([]);
        expect(await store.logs.lastSeq("dep-a")).toBe(0);
        expect(await store.logs.read("dep-a", 1, 100)).toEqual([]);

        expect(await store.builds.get("b-b1")).not.toBeNull();
        expect(await store.logs.lastSeq("dep-b")).toBe(2);
        await store.deployments.delete("dep-a");
      });
    });

    describe("builds", () => {
      beforeEach(async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        await store.deployments.insert(deployment({ id: "dep-b", name: "beta" }));
      });

      test("insert and get round-trip every field, steps included", async () => {
        const b = build({
          id: "b-1",
          deploymentId: "dep-a",
          number: 1,
          status: "succeeded",
          builder: "railpack",
          image: "kiln/alpha:1",
          commit: "0123456789abcdef",
          steps: [
            { name: "source", startedAt: 10, durationMs: 5, ok: true },
            { name: "build", startedAt: 15, durationMs: null, ok: null },
          ],
          error: null,
          createdAt: 10,
          finishedAt: 99,
        });
        await store.builds.insert(b);
        expect(await store.builds.get("b-1")).toEqual(b);
        expect(await store.builds.get("nope")).toBeNull();
      });

      test("nextNumber counts per deployment and listFor is newest first", async () => {
        expect(await store.builds.nextNumber("dep-a")).toBe(1);
        for (const n of [1, 2, 3]) {
          expect(await store.builds.nextNumber("dep-a")).toBe(n);
          await store.builds.insert(build({ id: `a-${n}`, deploymentId: "dep-a", number: n, createdAt: n }));
        }
        expect(await store.builds.nextNumber("dep-a")).toBe(4);
        expect(await store.builds.nextNumber("dep-b")).toBe(1);
        expect((await store.builds.listFor("dep-a")).map((b) => b.number)).toEqual([3, 2, 1]);
        expect(await store.builds.listFor("dep-b")).toEqual([]);
      });

      test("a number taken within a deployment is a conflict, across deployments it is fine", async () => {
        await store.builds.insert(build({ id: "b-1", deploymentId: "dep-a", number: 1 }));
        await expectKind(store.builds.insert(build({ id: "b-2", deploymentId: "dep-a", number: 1 })), "conflict");
        await store.builds.insert(build({ id: "b-3", deploymentId: "dep-b", number: 1 }));
      });

      test("a build of a missing deployment is not_found", async () => {
        await expectKind(store.builds.insert(build({ id: "b-1", deploymentId: "ghost", number: 1 })), "not_found");
      });

      test("update sets the given fields and returns the row; missing is not_found", async () => {
        const b = build({ id: "b-1", deploymentId: "dep-a", number: 1 });
        await store.builds.insert(b);
        const steps = [{ name: "source" as const, startedAt: 1, durationMs: 2, ok: true }];
        const updated = await store.builds.update("b-1", {
          status: "failed",
          error: "no Dockerfile",
          steps,
          finishedAt: 50,
          builder: "dockerfile",
        });
        expect(updated).toEqual({ ...b, status: "failed", error: "no Dockerfile", steps, finishedAt: 50, builder: "dockerfile" });
        expect(await store.builds.get("b-1")).toEqual(updated);
        expect(await store.builds.update("b-1", {})).toEqual(updated);
        await expectKind(store.builds.update("nope", { status: "failed" }), "not_found");
      });
    });

    describe("releases", () => {
      const release = (overrides: Partial<Release>): Release => ({
        id: "rel-1",
        deploymentId: "dep-a",
        number: 1,
        buildId: "b-1",
        image: "kiln/app-alpha:b-1",
        buildPort: 8080,
        envKeys: ["API_URL"],
        settings: { ...DEFAULT_SETTINGS, replicas: 2, healthcheck: { path: "/healthz", expectStatus: 200, timeoutMs: 2000, intervalMs: 1000, startPeriodMs: 60000 } },
        trigger: "deploy",
        via: "cli",
        rollbackOf: null,
        description: "first deploy",
        createdAt: 1000,
        ...overrides,
      });

      test("round trip, numbered per deployment, newest first, by number", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        await store.deployments.insert(deployment({ id: "dep-b", name: "beta" }));
        expect(await store.releases.nextNumber("dep-a")).toBe(1);
        const r1 = release({});
        const r2 = release({ id: "rel-2", number: 2, trigger: "rollback", rollbackOf: 1, via: "api", description: "rollback to release #1", createdAt: 2000 });
        await store.releases.insert(r1);
        await store.releases.insert(r2);
        await store.releases.insert(release({ id: "rel-x", deploymentId: "dep-b" }));
        expect(await store.releases.get("rel-1")).toEqual(r1);
        expect(await store.releases.getByNumber("dep-a", 2)).toEqual(r2);
        expect(await store.releases.getByNumber("dep-a", 9)).toBeNull();
        expect((await store.releases.listFor("dep-a")).map((r) => r.id)).toEqual(["rel-2", "rel-1"]);
        expect(await store.releases.nextNumber("dep-a")).toBe(3);
        await expectKind(store.releases.insert(release({ id: "rel-3", number: 2 })), "conflict");
        await store.releases.delete("rel-1");
        expect(await store.releases.get("rel-1")).toBeNull();
      });

      test("a deployment's releases go with it", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        await store.releases.insert(release({}));
        await store.deployments.delete("dep-a");
        expect(await store.releases.listFor("dep-a")).toEqual([]);
      });
    });

    describe("domains and webhook deliveries", () => {
      test("a host belongs to one deployment; listed, removed, and gone with its deployment", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        await store.deployments.insert(deployment({ id: "dep-b", name: "beta" }));
        await store.domains.add({ host: "shop.example.com", deploymentId: "dep-a", createdAt: 1 });
        await store.domains.add({ host: "a.example.com", deploymentId: "dep-a", createdAt: 2 });
        await store.domains.add({ host: "shop.example.com", deploymentId: "dep-a", createdAt: 3 }); // same app: no-op
        await expectKind(store.domains.add({ host: "shop.example.com", deploymentId: "dep-b", createdAt: 4 }), "conflict");
        expect((await store.domains.listFor("dep-a")).map((d) => d.host)).toEqual(["a.example.com", "shop.example.com"]);
        expect(await store.domains.get("shop.example.com")).toEqual({ host: "shop.example.com", deploymentId: "dep-a", createdAt: 1 });
        await store.domains.remove("a.example.com");
        expect((await store.domains.all()).map((d) => d.host)).toEqual(["shop.example.com"]);
        await store.deployments.delete("dep-a");
        expect(await store.domains.all()).toEqual([]);
      });

      test("a delivery is recorded once per deployment; old ones are pruned", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        await store.deployments.insert(deployment({ id: "dep-b", name: "beta" }));
        expect(await store.deliveries.record("dep-a", "d-1", 100)).toBe(true);
        expect(await store.deliveries.record("dep-a", "d-1", 200)).toBe(false);
        expect(await store.deliveries.record("dep-b", "d-1", 200)).toBe(true);
        await store.deliveries.prune(150);
        expect(await store.deliveries.record("dep-a", "d-1", 300)).toBe(true);
      });
    });

    describe("logs", () => {
      // Chunks [1–3] [4–8] [9] [10–16].
      const chunks = [lines(1, 3), lines(4, 8), lines(9, 9), lines(10, 16)];
      beforeEach(async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        for (const c of chunks) await store.logs.appendChunk("dep-a", c);
      });

      test("chunks round-trip every field, in order", async () => {
        expect(await store.logs.read("dep-a", 1, 1000)).toEqual(chunks.flat());
        expect(await store.logs.lastSeq("dep-a")).toBe(16);
      });

      test("range reads start inside a chunk and cross chunk boundaries", async () => {
        expect(seqs(await store.logs.read("dep-a", 2, 2))).toEqual([2, 3]);
        expect(seqs(await store.logs.read("dep-a", 3, 7))).toEqual([3, 4, 5, 6, 7, 8, 9]);
        expect(seqs(await store.logs.read("dep-a", 8, 3))).toEqual([8, 9, 10]);
        expect(seqs(await store.logs.read("dep-a", 9, 1))).toEqual([9]);
        expect(seqs(await store.logs.read("dep-a", 15, 100))).toEqual([15, 16]);
        expect(seqs(await store.logs.read("dep-a", 0, 2))).toEqual([1, 2]);
        expect(await store.logs.read("dep-a", 17, 100)).toEqual([]);
        expect(await store.logs.read("dep-a", 1, 0)).toEqual([]);
      });

      test("deployments are kept apart; unknown ones are empty", async () => {
        await store.logs.appendChunk("dep-b", lines(1, 2, "b"));
        expect((await store.logs.read("dep-b", 1, 100)).map((l) => l.text)).toEqual(["b1", "b2"]);
        expect(await store.logs.lastSeq("dep-b")).toBe(2);
        expect(await store.logs.lastSeq("ghost")).toBe(0);
        expect(await store.logs.read("ghost", 1, 100)).toEqual([]);
        expect(await store.logs.lastSeq("dep-a")).toBe(16);
      });

      test("an empty chunk is ignored; a chunk stored twice is a conflict", async () => {
        await store.logs.appendChunk("dep-a", []);
        expect(await store.logs.lastSeq("dep-a")).toBe(16);
        await expectKind(store.logs.appendChunk("dep-a", lines(10, 12)), "conflict");
      });

      test("text survives exactly: unicode, quotes, empty lines", async () => {
        const odd: LogLine[] = [
          { seq: 17, ts: 1, stream: "runtime", text: "" },
          { seq: 18, ts: 2, stream: "system", text: 'quotes " and \\ and \t tabs' },
          { seq: 19, ts: 3, stream: "build", text: "ünïcødé 😀 ✓" },
        ];
        await store.logs.appendChunk("dep-a", odd);
        expect(await store.logs.read("dep-a", 17, 10)).toEqual(odd);
      });

      test("deleteFor removes one deployment's logs", async () => {
        await store.logs.appendChunk("dep-b", lines(1, 2));
        await store.logs.deleteFor("dep-a");
        expect(await store.logs.read("dep-a", 1, 100)).toEqual([]);
        expect(await store.logs.lastSeq("dep-a")).toBe(0);
        expect(await store.logs.lastSeq("dep-b")).toBe(2);
      });
    });

    describe("lifecycles: a status is written only through its table", () => {
      test("deployments: an illegal move is refused with the current status, and the row is unchanged", async () => {
        const d = deployment({ id: "dep-a", name: "alpha" });
        await store.deployments.insert(d);
        const err = await refusal(store.deployments.update("dep-a", { status: "deploying", instances: [{ containerId: "c1", upstream: null }] }, "contract"));
        expect([err.entity, err.id, err.from, err.to, err.where]).toEqual(["deployment", "dep-a", "queued", "deploying", "contract"]);
        await refusal(store.deployments.update("dep-a", { status: "queued" })); // same status, not in the table
        expect(await store.deployments.get("dep-a")).toEqual(d);

        // allowed moves go through, a same-status write only where the table lists it
        for (const status of ["building", "deploying", "running", "running", "failed", "stopped"] as const) {
          expect((await store.deployments.update("dep-a", { status })).status).toBe(status);
        }
        const stopped = (await store.deployments.get("dep-a"))!;
        expect((await refusal(store.deployments.update("dep-a", { status: "running", instances: [{ containerId: "c1", upstream: "127.0.0.1:1" }] }))).from).toBe("stopped");
        expect(await store.deployments.get("dep-a")).toEqual(stopped);
        // a write without a status is not a move
        expect((await store.deployments.update("dep-a", { failureReason: "x" })).failureReason).toBe("x");
      });

      test("builds: an ended build stays ended, and the row is unchanged", async () => {
        await store.deployments.insert(deployment({ id: "dep-a", name: "alpha" }));
        const b = build({ id: "b-1", deploymentId: "dep-a", number: 1 });
        await store.builds.insert(b);
        expect((await refusal(store.builds.update("b-1", { status: "succeeded", image: "img" }))).from).toBe("queued");
        expect(await store.builds.get("b-1")).toEqual(b);
        await store.builds.update("b-1", { status: "running" });
        const done = await store.builds.update("b-1", { status: "succeeded", finishedAt: 9 });
        for (const status of ["running", "failed", "cancelled", "succeeded"] as const) {
          const err = await refusal(store.builds.update("b-1", { status, error: "late" }, "contract"));
          expect([err.entity, err.from, err.to, err.where]).toEqual(["build", "succeeded", status, "contract"]);
        }
        expect(await store.builds.get("b-1")).toEqual(done);
        await expectKind(store.builds.update("nope", { status: "running" }), "not_found");
      });

      test("pool members: an illegal move is refused, and the row is unchanged", async () => {
        const m = member("m1", { status: "claimed", tenantId: "a", claimedAt: 5 });
        await store.pools.insertMember(m);
        for (const status of ["ready", "warming", "draining", "claimed"] as const) {
          const err = await refusal(store.pools.updateMember("m1", { status, tenantId: null }, "contract"));
          expect([err.entity, err.id, err.from, err.to, err.where]).toEqual(["pool member", "m1", "claimed", status, "contract"]);
        }
        expect(await store.pools.getMember("m1")).toEqual(m);
        expect((await store.pools.updateMember("m1", { status: "releasing" })).status).toBe("releasing");
        expect((await store.pools.updateMember("m1", { status: "claimed" })).status).toBe("claimed"); // the upload failed
        expect((await store.pools.updateMember("m1", { lastActiveAt: 7 })).lastActiveAt).toBe(7); // not a move
        await expectKind(store.pools.updateMember("nope", { status: "ready" }), "not_found");
      });

      test("tenants: an illegal move is refused, and the row (or its absence) is unchanged", async () => {
        const t = tenant({ status: "releasing" });
        expect((await refusal(store.pools.putTenant(t, "contract"))).from).toBe("released"); // no row counts as released
        expect(await store.pools.getTenant("a", "w")).toBeNull();

        const claimed = tenant({ status: "claimed" });
        await store.pools.putTenant(claimed);
        const err = await refusal(store.pools.putTenant({ ...claimed, status: "release_failed", memberId: null, updatedAt: 2 }, "contract"));
        expect([err.entity, err.id, err.from, err.to, err.where]).toEqual(["tenant", "a/w", "claimed", "release_failed", "contract"]);
        expect(await store.pools.getTenant("a", "w")).toEqual(claimed);

        // the whole release path, a failed one first; lastSync may be rewritten in any status
        for (const status of ["claimed", "releasing", "release_failed", "release_failed", "releasing", "released", "released", "claimed"] as const) {
          await store.pools.putTenant({ ...claimed, status, updatedAt: 3 });
          expect((await store.pools.getTenant("a", "w"))?.status).toBe(status);
        }
        await refusal(store.pools.putTenant({ ...claimed, status: "release_failed" }));
        expect((await store.pools.getTenant("a", "w"))?.status).toBe("claimed");
      });

      test("takeReady never returns a member that was not ready, and changes no other", async () => {
        const others = [
          member("m1", { status: "warming", readyAt: null }),
          member("m2", { status: "claimed", tenantId: "x" }),
          member("m3", { status: "releasing", tenantId: "y" }),
          member("m4", { status: "draining" }),
          member("m5", { status: "destroyed" }),
          member("m6", { specHash: "old" }),
          member("m7", { workloadId: "v" }),
        ];
        for (const m of others) await store.pools.insertMember(m);
        expect(await store.pools.takeReady("w", "h1", "a", 100, "test-node")).toBeNull();
        for (const m of others) expect(await store.pools.getMember(m.id)).toEqual(m);

        for (const n of [10, 11, 12]) await store.pools.insertMember(member(`r${n}`, { readyAt: n }));
        const got = await Promise.all(["a", "b", "c", "d", "e"].map((t) => store.pools.takeReady("w", "h1", t, 100, "test-node")));
        expect(got.map((m) => m?.id ?? null).sort()).toEqual([null, null, "r10", "r11", "r12"]);
        for (const m of got) if (m) expect(m).toMatchObject({ status: "claimed", claimedAt: 100, lastActiveAt: 100 });
        for (const m of others) expect(await store.pools.getMember(m.id)).toEqual(m);
        expect(await store.pools.drainIfReady("r10")).toBe(false); // claimed now
      });
    });

    describe("pool members on nodes", () => {
      test("a member's node round-trips, \"\" included", async () => {
        const here = member("m1", { node: "node-a" });
        const old = member("m2", { node: "" });
        await store.pools.insertMember(here);
        await store.pools.insertMember(old);
        expect(await store.pools.getMember("m1")).toEqual(here);
        expect(await store.pools.getMember("m2")).toEqual(old);
        expect(await store.pools.listMembers()).toEqual([here, old]);
        const updated = await store.pools.updateMember("m1", { lastActiveAt: 9 });
        expect(updated).toEqual({ ...here, lastActiveAt: 9 }); // a patch without node keeps it
      });

      test("takeReady never takes another node's member, and takes its own", async () => {
        // Another node's members are ready and older; "" is not a wildcard either.
        await store.pools.insertMember(member("b1", { node: "node-b", readyAt: 1 }));
        await store.pools.insertMember(member("legacy", { node: "", readyAt: 2 }));
        expect(await store.pools.takeReady("w", "h1", "t1", 100, "node-a")).toBeNull();
        await store.pools.insertMember(member("a1", { node: "node-a", readyAt: 5 }));
        await store.pools.insertMember(member("a2", { node: "node-a", readyAt: 6 }));

        const got = await Promise.all(["t1", "t2", "t3"].map((t) => store.pools.takeReady("w", "h1", t, 100, "node-a")));
        expect(got.map((m) => m?.id ?? null).sort()).toEqual(["a1", "a2", null]); // sort() orders null as "null"
        for (const m of got) if (m) expect(m).toMatchObject({ node: "node-a", status: "claimed", claimedAt: 100 });
        expect(await store.pools.getMember("b1")).toEqual(member("b1", { node: "node-b", readyAt: 1 }));
        expect(await store.pools.getMember("legacy")).toEqual(member("legacy", { node: "", readyAt: 2 }));

        expect(await store.pools.takeReady("w", "h1", "t4", 101, "node-b")).toMatchObject({ id: "b1", node: "node-b", tenantId: "t4" });
      });

      test("listMembers filters by node, by workload, or both; destroyed ones stay out", async () => {
        const rows = [
          member("a1", { node: "node-a", createdAt: 1 }),
          member("a2", { node: "node-a", workloadId: "v", createdAt: 2 }),
          member("b1", { node: "node-b", createdAt: 3 }),
          member("o1", { node: "", createdAt: 4 }),
          member("a3", { node: "node-a", status: "destroyed", createdAt: 5 }),
        ];
        for (const m of rows) await store.pools.insertMember(m);
        const ids = async (workloadId?: string, node?: string) => (await store.pools.listMembers(workloadId, node)).map((m) => m.id);
        expect(await ids()).toEqual(["a1", "a2", "b1", "o1"]);
        expect(await ids(undefined, "node-a")).toEqual(["a1", "a2"]);
        expect(await ids(undefined, "node-b")).toEqual(["b1"]);
        expect(await ids(undefined, "")).toEqual(["o1"]);
        expect(await ids(undefined, "node-c")).toEqual([]);
        expect(await ids("w", "node-a")).toEqual(["a1"]);
        expect(await ids("v", "node-b")).toEqual([]);
        expect(await ids("w")).toEqual(["a1", "b1", "o1"]);
      });

      test("adoptMembers gives this node only the members without one, whatever their status", async () => {
        const rows = [
          member("o1", { node: "" }),
          member("o2", { node: "", status: "claimed", tenantId: "t", claimedAt: 3 }),
          member("b1", { node: "node-b" }),
          member("a1", { node: "node-a" }),
        ];
        for (const m of rows) await store.pools.insertMember(m);
        expect(await store.pools.adoptMembers("node-a")).toBe(2);
        expect(await store.pools.getMember("o1")).toEqual({ ...rows[0]!, node: "node-a" });
        expect(await store.pools.getMember("o2")).toEqual({ ...rows[1]!, node: "node-a" });
        expect(await store.pools.getMember("b1")).toEqual(rows[2]!);
        expect(await store.pools.getMember("a1")).toEqual(rows[3]!);
        expect(await store.pools.adoptMembers("node-b")).toBe(0); // nothing left without a node
        expect((await store.pools.takeReady("w", "h1", "t2", 100, "node-a"))?.id).toBe("a1");
        expect((await store.pools.takeReady("w", "h1", "t3", 100, "node-a"))?.id).toBe("o1"); // adopted: takeable here now
      });
    });

    describe("secrets", () => {
      test("put, get, overwrite; missing is null", async () => {
        expect(await store.secrets.get("deployment/a/env")).toBeNull();
        await store.secrets.put("deployment/a/env", '{"A":"1"}');
        expect(await store.secrets.get("deployment/a/env")).toBe('{"A":"1"}');
        await store.secrets.put("deployment/a/env", '{"A":"2"}');
        expect(await store.secrets.get("deployment/a/env")).toBe('{"A":"2"}');
      });

      test("deletePrefix removes exactly the keys starting with the prefix, matched literally", async () => {
        const keys = [
          "deployment/a/env",
          "deployment/a/git-token",
          "deployment/ab/env",
          "deployment/a_/env",
          "deployment/%/env",
          "other/deployment/a/env",
        ];
        for (const k of keys) await store.secrets.put(k, `v:${k}`);

        await store.secrets.deletePrefix("deployment/a/");
        expect(await store.secrets.get("deployment/a/env")).toBeNull();
        expect(await store.secrets.get("deployment/a/git-token")).toBeNull();
        for (const k of keys.slice(2)) expect(await store.secrets.get(k)).toBe(`v:${k}`);

        await store.secrets.deletePrefix("deployment/%");
        expect(await store.secrets.get("deployment/%/env")).toBeNull();
        expect(await store.secrets.get("deployment/ab/env")).toBe("v:deployment/ab/env");
        await store.secrets.deletePrefix("deployment/a_");
        expect(await store.secrets.get("deployment/a_/env")).toBeNull();
        expect(await store.secrets.get("deployment/ab/env")).toBe("v:deployment/ab/env");
      });
    });
  });
}

export function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: "dep-1",
    name: "app",
    source: { kind: "git", url: "https://example.com/app.git", ref: "main", hasToken: false },
    envKeys: ["PORT", "DATABASE_URL"],
    networks: [],
    status: "queued",
    currentBuildId: null,
    failureReason: null,
    instances: [],
    preview: null,
    settings: { ...DEFAULT_SETTINGS },
    currentReleaseId: null,
    createdAt: 1000,
    updatedAt: 1000,
    ...overrides,
  };
}

export function build(overrides: Partial<Build> = {}): Build {
  return {
    id: "build-1",
    deploymentId: "dep-1",
    number: 1,
    status: "queued",
    builder: null,
    image: null,
    port: null,
    plan: null,
    commit: null,
    steps: [],
    error: null,
    createdAt: 1000,
    finishedAt: null,
    ...overrides,
  };
}

export function member(id: string, overrides: Partial<PoolMember> = {}): PoolMember {
  return {
    id,
    workloadId: "w",
    specHash: "h1",
    node: "test-node",
    containerId: `c-${id}`,
    status: "ready",
    tenantId: null,
    endpoint: "127.0.0.1:1",
    createdAt: 1,
    readyAt: 1,
    claimedAt: null,
    lastActiveAt: null,
    ...overrides,
  };
}

export function tenant(overrides: Partial<TenantClaim> = {}): TenantClaim {
  return { tenantId: "a", workloadId: "w", memberId: "m1", status: "claimed", lastSync: null, claimedAt: 1, releasedAt: null, updatedAt: 1, ...overrides };
}

/** Lines first..last with text `${prefix}${seq}` and streams rotating. */
export function lines(first: number, last: number, prefix = "line "): LogLine[] {
  const streams = ["build", "runtime", "system"] as const;
  const out: LogLine[] = [];
  for (let seq = first; seq <= last; seq++) {
    out.push({ seq, ts: 1_700_000_000_000 + seq, stream: streams[seq % 3]!, text: `${prefix}${seq}` });
  }
  return out;
}

const seqs = (ls: LogLine[]) => ls.map((l) => l.seq);

/** The IllegalMove a refused status write rejects with (a conflict). */
async function refusal(promise: Promise<unknown>): Promise<IllegalMove> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IllegalMove);
  expect((err as IllegalMove).kind).toBe("conflict");
  return err as IllegalMove;
}

async function expectKind(promise: Promise<unknown>, kind: ErrorKind): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KilnError);
  expect((err as KilnError).kind).toBe(kind);
}

/**
 * Several Kilns: each clears its own disk (Reconciler.collectLocalGarbage) — uploads no deployment
 * names and work dirs of ended builds — without asking the engine for anything (images are the
 * leader's collection's). A real store (SQLite in memory) and real directories; the engine a stub
 * that fails the test if it is touched.
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import { deployment } from "../../test/store/contract.ts";
import { Reconciler, type ReconcilerDeps } from "./deployments.ts";

test("collectLocalGarbage: an old upload no deployment names goes, a named one and a fresh one stay; the engine is not asked", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-local-gc-"));
  const store = SqliteStore.open(":memory:");
  try {
    const uploads = join(dir, "uploads");
    mkdirSync(uploads);
    mkdirSync(join(dir, "builds"));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const name of ["kept.tar", "orphan.tar", "fresh.tar"]) writeFileSync(join(uploads, name), "x");
    for (const name of ["kept.tar", "orphan.tar"]) utimesSync(join(uploads, name), twoHoursAgo, twoHoursAgo);
    await store.deployments.insert(deployment({ id: "dep-a", name: "alpha", source: { kind: "tarball", uploadId: "kept", filename: "app.tar" } }));
    const engine = new Proxy({}, {
      get: (_t, prop) => () => {
        throw new Error(`the engine was asked: ${String(prop)}`);
      },
    }) as ContainerRuntime;
    const said: string[] = [];
    const reconciler = new Reconciler({
      store,
      runtime: engine,
      routes: {} as ReconcilerDeps["routes"],
      watcher: {} as ReconcilerDeps["watcher"],
      buildsDir: join(dir, "builds"),
      uploadsDir: uploads,
      keepImages: 2,
      instanceId: "i1",
      busy: () => false,
      log: () => {},
      say: (l) => said.push(l),
      shared: true,
    });
    const removed = await reconciler.collectLocalGarbage();
    expect(removed.map((r) => (r.kind === "upload" ? r.name : r.kind))).toEqual(["orphan.tar"]);
    expect(readdirSync(uploads).sort()).toEqual(["fresh.tar", "kept.tar"]);
    expect(said.filter((l) => l.includes("left"))).toEqual([]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

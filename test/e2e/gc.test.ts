/**
 * Garbage collection end to end, against the real Docker engine: a deployment redeployed past
 * KILN_KEEP_IMAGES keeps only its last images and still serves; stray uploads, Railpack leftovers
 * and images of builds no row knows go; nothing without this Kiln's instance label is touched, and
 * no image a container uses. Each test triggers one pass with `reconciler.collectGarbage()`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { utimes, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { filesArchive } from "../../src/adapters/builders/build-context.ts";
import { imageLabels } from "../../src/core/labels.ts";
import type { Labels } from "../../src/core/ports/runtime.ts";
import type { Removal } from "../../src/reconcile/gc.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { until } from "../helpers/wait.ts";
import type { LogLine } from "../../src/core/logs.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");
const KEEP = 2;
const TWO_HOURS_AGO = new Date(Date.now() - 2 * 60 * 60 * 1000);
let kiln: TestKiln;
let dep: Record<string, any>;
/** Build ids, oldest first. */
const builds: string[] = [];
/** Images this file made besides the deployment's (removed in afterAll if GC rightly left them). */
const made: string[] = [];

beforeAll(async () => {
  // Images of kept releases are kept too (rollback targets): keep as many releases as images.
  kiln = await startTestKiln({ KILN_KEEP_IMAGES: String(KEEP), KILN_KEEP_RELEASES: String(KEEP) });
});

afterAll(async () => {
  for (const ref of made) await kiln?.runtime.removeImage(ref).catch(() => {});
  await kiln?.stop();
});

const appImages = async () => (await kiln.runtime.listImages({ "kiln.deployment": dep.id })).map((i) => i.labels["kiln.build"]).sort();
const imageRefs = (removed: Removal[]) => removed.flatMap((r) => (r.kind === "image" ? r.refs : []));

/** A tiny image (one file, from scratch) with the given labels. */
async function tinyImage(tag: string, labels: Labels): Promise<string> {
  const { imageId } = await kiln.runtime.buildImage({
    context: filesArchive({ Dockerfile: "FROM scratch\nCOPY marker /marker\n", marker: `${tag}\n` }),
    dockerfile: "Dockerfile",
    tag,
    labels,
    onLine: () => {},
  });
  made.push(tag);
  return imageId;
}

async function redeployed(number: number): Promise<Record<string, any>> {
  // The previous build's run ends just after its row says succeeded (the old container goes): until
  // then a redeploy is refused with 409.
  await until(`redeploy #${number} accepted`, async () => {
    const res = await kiln.api(`/deployments/${dep.id}/redeploy`, { method: "POST" });
    if (res.status !== 202 && res.status !== 409) throw new Error(`redeploy: ${res.status} ${await res.text()}`);
    return res.status === 202;
  });
  return until(`build #${number} to succeed`, async () => {
    const d = (await (await kiln.api(`/deployments/${dep.id}`)).json()) as Record<string, any>;
    if (d.currentBuild?.number === number && d.currentBuild.status === "failed") throw new Error(`build #${number} failed: ${d.failureReason}`);
    return d.currentBuild?.number === number && d.currentBuild.status === "succeeded" && d.status === "running" ? d : null;
  }, 180_000);
}

test(`redeployed ${KEEP + 2} times with KILN_KEEP_IMAGES=${KEEP} and KILN_KEEP_RELEASES=${KEEP}: the older images go, the last ${KEEP} stay, the app still serves`, async () => {
  const res = await kiln.api("/deployments/upload?name=gcapp", { method: "POST", body: await tarOf(HELLO, true) });
  expect(res.status).toBe(202);
  dep = (await res.json()) as Record<string, any>;
  const first = await kiln.waitFor(dep.id, ["running", "failed"]);
  expect(first.status).toBe("running");
  builds.push(first.currentBuild.id);
  for (let n = 2; n <= KEEP + 3; n++) builds.push((await redeployed(n)).currentBuild.id);
  // The swap removes the previous container just after the build is marked succeeded: wait for it,
  // so that no old image is still in use.
  await until("one container left", async () => (await kiln.runtime.listContainers({ "kiln.deployment": dep.id })).length === 1);
  expect(await appImages()).toEqual([...builds].sort());

  const removed = await kiln.reconciler.collectGarbage();

  const old = builds.slice(0, builds.length - KEEP);
  const kept = builds.slice(-KEEP);
  const byReason = (a: { reason: string }, b: { reason: string }) => a.reason.localeCompare(b.reason);
  expect(removed.filter((r) => r.kind === "image").sort(byReason)).toEqual(
    old.map((id, i) => ({
      kind: "image",
      imageId: expect.any(String),
      refs: [`kiln/app-gcapp:${id}`],
      deploymentId: dep.id,
      reason: `build #${i + 1} of gcapp is beyond retention (each deployment keeps the images of its last ${KEEP} successful builds)`,
    })),
  );
  expect(await appImages()).toEqual([...kept].sort());
  const sub = await kiln.viaSubdomain("gcapp", "/after-gc");
  expect(sub.status).toBe(200);
  expect(await sub.text()).toContain("path /after-gc");
  // Each removal is on the deployment's log, with its reason.
  // (Removals run in no particular order: wait for all of them, then check each one's line.)
  const gcLines = (ls: LogLine[]) => ls.filter((l) => l.text.startsWith("gc: removed image"));
  const lines = await kiln.logs(dep.id, { until: (ls) => gcLines(ls).length >= old.length, timeoutMs: 10_000 });
  expect(gcLines(lines).map((l) => l.text.slice(0, l.text.indexOf(": build #"))).sort()).toEqual(old.map((id) => `gc: removed image kiln/app-gcapp:${id}`).sort());

  // A second pass finds nothing more to do.
  expect(await kiln.reconciler.collectGarbage()).toEqual([]);
}, 600_000);

test("an upload no deployment names goes once untouched for an hour; the deployment's own and a fresh one stay", async () => {
  const dir = join(kiln.config.dataDir, "uploads");
  const own = await readdir(dir);
  expect(own).toHaveLength(1); // gcapp's tarball, which every redeploy builds from again
  await utimes(join(dir, own[0]!), TWO_HOURS_AGO, TWO_HOURS_AGO);
  await writeFile(join(dir, "stray.tar"), "left by a crash");
  await utimes(join(dir, "stray.tar"), TWO_HOURS_AGO, TWO_HOURS_AGO);
  await writeFile(join(dir, "incoming-fresh.tar"), "still arriving");

  const removed = await kiln.reconciler.collectGarbage();

  expect(removed).toEqual([{ kind: "upload", name: "stray.tar", reason: "no deployment's source is this upload (untouched for over an hour)" }]);
  expect((await readdir(dir)).sort()).toEqual([own[0]!, "incoming-fresh.tar"].sort());
});

test("images: an unknown build's and Railpack's leftover go; other instances' and unlabelled ones, and any a container uses, stay", async () => {
  const mine = (build: string) => imageLabels(kiln.instanceId, "gc-test-dep", build);
  await tinyImage("kiln/app-gcstray:nobuild1", mine("nobuild1"));
  const inUse = await tinyImage("kiln/app-gcstray:nobuild2", mine("nobuild2"));
  const { ["kiln.instance"]: _, ...noInstance } = mine("nobuild3");
  const foreign = await tinyImage("kiln-gc-test/no-instance:1", noInstance);
  const otherKiln = await tinyImage("kiln-gc-test/other-instance:1", { ...mine("nobuild4"), "kiln.instance": "another-kiln" });
  // What the Railpack path loads (no labels), as left when Kiln died mid-build: its build has ended.
  await tinyImage(`kiln/railpack-load:${builds[0]}`, {});
  // A container (never started, on no network) made from one of them.
  const container = await kiln.runtime.createContainer({
    name: `kiln-gc-test-${Date.now()}`,
    image: inUse,
    labels: {},
    env: {},
    cmd: ["/marker"],
    network: "none",
    memoryBytes: 16 * 1024 * 1024,
    nanoCpus: 1e8,
    pidsLimit: 16,
    restartPolicy: "no",
  });
  try {
    const removed = await kiln.reconciler.collectGarbage();
    expect(removed.map((r) => ({ refs: imageRefs([r]), reason: r.reason })).sort((a, b) => a.refs[0]!.localeCompare(b.refs[0]!))).toEqual([
      { refs: ["kiln/app-gcstray:nobuild1"], reason: "no build row knows build nobuild1 (its deployment was removed)" },
      { refs: [`kiln/railpack-load:${builds[0]}`], reason: `loaded by Railpack for build #1 of gcapp, which has ended` },
    ]);
    expect(await kiln.runtime.imageExists("kiln/app-gcstray:nobuild1")).toBe(false);
    expect(await kiln.runtime.imageExists(`kiln/railpack-load:${builds[0]}`)).toBe(false);
    expect(await kiln.runtime.imageExists(inUse)).toBe(true);
    expect(await kiln.runtime.imageExists(foreign)).toBe(true);
    expect(await kiln.runtime.imageExists(otherKiln)).toBe(true);
  } finally {
    await kiln.runtime.removeContainer(container);
  }
  // Once no container uses it, the image is garbage like the other.
  const after = await kiln.reconciler.collectGarbage();
  expect(imageRefs(after)).toEqual(["kiln/app-gcstray:nobuild2"]);
  expect(await kiln.runtime.imageExists(inUse)).toBe(false);
  // The deployment was not disturbed by any of it.
  expect((await kiln.viaSubdomain("gcapp")).status).toBe(200);
}, 300_000);

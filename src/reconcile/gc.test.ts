import { describe, expect, test } from "bun:test";
import type { Build, BuildStatus, Deployment } from "../core/deployment.ts";
import { imageLabels, imageTag } from "../core/labels.ts";
import { DEFAULT_SETTINGS } from "../core/settings.ts";
import type { ImageSummary } from "../core/ports/runtime.ts";
import { GRACE_MS, keptBuilds, planGarbage, type GcInput } from "./gc.ts";

const NOW = 1_800_000_000_000;
const ME = "inst-me";

function deployment(id: string, name: string, currentBuildId: string | null, source: Deployment["source"] = { kind: "git", url: "https://x/y.git", hasToken: false }): Deployment {
  return { id, name, source, envKeys: [], networks: [], status: "running", currentBuildId, failureReason: null, instances: [], preview: null, settings: { ...DEFAULT_SETTINGS }, currentReleaseId: null, createdAt: 0, updatedAt: 0 };
}

function build(deploymentId: string, number: number, status: BuildStatus): Build {
  return { id: `${deploymentId}-b${number}`, deploymentId, number, status, builder: "kiln", image: null, port: null, plan: null, commit: null, steps: [], error: null, createdAt: number, finishedAt: null };
}

/** The image a build made, as the engine lists it. */
function imageOf(b: Build, name: string, over: Partial<ImageSummary> = {}): ImageSummary {
  return { id: `sha256:${b.id}`, tags: [imageTag(name, b.id)], labels: imageLabels(ME, b.deploymentId, b.id), createdAt: 0, ...over };
}

function input(over: Partial<GcInput>): GcInput {
  return { instanceId: ME, keepImages: 2, deployments: [], builds: [], images: [], imagesInUse: new Set(), uploads: [], workDirs: [], now: NOW, ...over };
}

describe("keptBuilds", () => {
  test("in flight, current and the last N successful", () => {
    const builds = [build("d", 1, "succeeded"), build("d", 2, "succeeded"), build("d", 3, "failed"), build("d", 4, "succeeded"), build("d", 5, "running"), build("e", 1, "succeeded")];
    expect([...keptBuilds(deployment("d", "web", "d-b5"), builds, 1)].sort()).toEqual(["d-b4", "d-b5"]);
    expect([...keptBuilds(deployment("d", "web", "d-b5"), builds, 2)].sort()).toEqual(["d-b2", "d-b4", "d-b5"]);
    // A current build older than the last N (a future rollback) is kept too; a failed current one is not.
    expect([...keptBuilds(deployment("d", "web", "d-b1"), builds, 1)].sort()).toEqual(["d-b1", "d-b4", "d-b5"]);
    expect([...keptBuilds(deployment("d", "web", "d-b3"), builds, 1)].sort()).toEqual(["d-b4", "d-b5"]);
  });
});

describe("planGarbage: build images", () => {
  const web = deployment("d", "web", "d-b5");
  const builds = [1, 2, 3, 4, 5].map((n) => build("d", n, "succeeded"));

  test("images beyond retention go, with the reason; the last N and the current one stay", () => {
    const plan = planGarbage(input({ deployments: [web], builds, images: builds.map((b) => imageOf(b, "web")) }));
    const why = "is beyond retention (each deployment keeps the images of its last 2 successful builds)";
    expect(plan).toEqual([1, 2, 3].map((n) => ({
      kind: "image",
      imageId: `sha256:d-b${n}`,
      refs: [`kiln/app-web:d-b${n}`],
      deploymentId: "d",
      reason: `build #${n} of web ${why}`,
    })));
  });

  test("an image a container uses is never removed", () => {
    const plan = planGarbage(input({ deployments: [web], builds, images: builds.map((b) => imageOf(b, "web")), imagesInUse: new Set(["sha256:d-b1", "sha256:d-b3"]) }));
    expect(plan.map((r) => (r.kind === "image" ? r.imageId : r.kind))).toEqual(["sha256:d-b2"]);
  });

  test("failed and cancelled builds' images go; a build in flight keeps its image", () => {
    const bs = [build("d", 1, "succeeded"), build("d", 2, "failed"), build("d", 3, "cancelled"), build("d", 4, "running"), build("d", 5, "queued")];
    const plan = planGarbage(input({ deployments: [deployment("d", "web", "d-b5")], builds: bs, images: bs.map((b) => imageOf(b, "web")) }));
    expect(plan).toEqual([
      { kind: "image", imageId: "sha256:d-b2", refs: ["kiln/app-web:d-b2"], deploymentId: "d", reason: "build #2 of web failed" },
      { kind: "image", imageId: "sha256:d-b3", refs: ["kiln/app-web:d-b3"], deploymentId: "d", reason: "build #3 of web was cancelled" },
    ]);
  });

  test("an image whose build no row knows goes (deployment removed, or a build row lost)", () => {
    const gone = imageOf(build("zz", 1, "succeeded"), "old");
    const lost = imageOf(build("d", 9, "succeeded"), "web");
    expect(planGarbage(input({ deployments: [web], builds, images: [gone, lost] }))).toEqual([
      { kind: "image", imageId: "sha256:zz-b1", refs: ["kiln/app-old:zz-b1"], deploymentId: null, reason: "no build row knows build zz-b1 (its deployment was removed)" },
      { kind: "image", imageId: "sha256:d-b9", refs: ["kiln/app-web:d-b9"], deploymentId: "d", reason: "no build row knows build d-b9" },
    ]);
  });

  test("nothing outside this instance's app images is touched", () => {
    const stray = build("zz", 1, "succeeded");
    const labels = imageLabels(ME, stray.deploymentId, stray.id);
    const { ["kiln.instance"]: _, ...noInstance } = labels;
    const images = [
      imageOf(stray, "a", { id: "other-instance", labels: { ...labels, "kiln.instance": "inst-other" } }),
      imageOf(stray, "b", { id: "no-instance", labels: noInstance }),
      imageOf(stray, "c", { id: "not-managed", labels: { ...labels, "kiln.managed": "false" } }),
      imageOf(stray, "d", { id: "a-member", labels: { ...labels, "kiln.kind": "pool-member" } }),
      imageOf(stray, "e", { id: "no-build", labels: { "kiln.managed": "true", "kiln.instance": ME, "kiln.kind": "app" } }),
      { id: "sha256:node", tags: ["node:20"], labels: {}, createdAt: 0 },
      { id: "sha256:base", tags: ["kiln/node-runtime:20-host"], labels: { "kiln.managed": "true", "kiln.base": "node" }, createdAt: 0 },
    ];
    expect(planGarbage(input({ images }))).toEqual([]);
  });

  test("Kiln's tags only: a dangling image goes by id, someone else's tag keeps the image", () => {
    const [b1, b2, b3] = builds;
    const images = [
      imageOf(b1!, "web", { tags: [] }),
      imageOf(b2!, "web", { tags: ["kiln/app-web:d-b2", "mine:latest"] }),
      imageOf(b3!, "web", { tags: ["mine:v3"] }),
    ];
    expect(planGarbage(input({ deployments: [web], builds, images })).map((r) => (r.kind === "image" ? r.refs : []))).toEqual([["sha256:d-b1"], ["kiln/app-web:d-b2"]]);
  });

  test("Railpack's loaded image goes once its build (known to this store) has ended", () => {
    const bs = [build("d", 1, "failed"), build("d", 2, "running")];
    const loaded = (id: string, tag: string): ImageSummary => ({ id, tags: [tag], labels: {}, createdAt: 0 });
    const images = [
      loaded("sha256:l1", "kiln/railpack-load:d-b1"),
      loaded("sha256:l2", "kiln/railpack-load:d-b2"), // still building
      loaded("sha256:l3", "kiln/railpack-load:unknown"), // another Kiln's, maybe
      loaded("sha256:l4", "kiln/railpack-load:d-b1x"),
    ];
    expect(planGarbage(input({ deployments: [deployment("d", "web", "d-b2")], builds: bs, images }))).toEqual([
      { kind: "image", imageId: "sha256:l1", refs: ["kiln/railpack-load:d-b1"], deploymentId: "d", reason: "loaded by Railpack for build #1 of web, which has ended" },
    ]);
    expect(planGarbage(input({ deployments: [deployment("d", "web", "d-b2")], builds: bs, images, imagesInUse: new Set(["sha256:l1"]) }))).toEqual([]);
  });
});

describe("planGarbage: files", () => {
  const old = NOW - GRACE_MS;
  const fresh = NOW - GRACE_MS + 1;

  test("uploads no deployment names go once untouched for the grace period", () => {
    const d = deployment("d", "web", null, { kind: "tarball", uploadId: "u1" });
    const uploads = [
      { name: "u1.tar", isFile: true, mtimeMs: 0 },
      { name: "u2.tar", isFile: true, mtimeMs: old },
      { name: "u3.tar", isFile: true, mtimeMs: fresh },
      { name: "incoming-x.tar", isFile: true, mtimeMs: old },
      { name: "incoming-y.tar", isFile: true, mtimeMs: fresh },
      { name: "a-dir", isFile: false, mtimeMs: 0 },
    ];
    expect(planGarbage(input({ deployments: [d], uploads }))).toEqual([
      { kind: "upload", name: "u2.tar", reason: "no deployment's source is this upload (untouched for over an hour)" },
      { kind: "upload", name: "incoming-x.tar", reason: "an upload that never completed (untouched for over an hour)" },
    ]);
  });

  test("work dirs of ended builds go; in flight stay; unknown ones after the grace period", () => {
    const bs = [build("d", 1, "succeeded"), build("d", 2, "running"), build("d", 3, "queued")];
    const workDirs = [
      { name: "d-b1", isFile: false, mtimeMs: NOW },
      { name: "d-b2", isFile: false, mtimeMs: 0 },
      { name: "d-b3", isFile: false, mtimeMs: 0 },
      { name: "zz-old", isFile: false, mtimeMs: old },
      { name: "zz-new", isFile: false, mtimeMs: fresh },
    ];
    expect(planGarbage(input({ deployments: [deployment("d", "web", "d-b3")], builds: bs, workDirs }))).toEqual([
      { kind: "work-dir", name: "d-b1", reason: "build #1 has ended (succeeded)" },
      { kind: "work-dir", name: "zz-old", reason: "no build row knows it (untouched for over an hour)" },
    ]);
  });
});

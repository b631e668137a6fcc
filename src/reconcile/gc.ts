/**
 * Garbage collection decided as data: from what the store, the engine and the data dir hold, which
 * of Kiln's leftovers go, and why. Pure; the Reconciler does the reading and the removing
 * (`Reconciler.collectGarbage`) and logs every removal with its reason.
 *
 *   const removals = planGarbage({ instanceId, keepImages: 5, deployments, builds, images, imagesInUse, uploads, workDirs, now });
 *   // → [{ kind: "image", refs: ["kiln/app-web:b1"], reason: "build #1 of web is beyond retention: …" }, …]
 *
 * What it guarantees:
 * - An image any container uses (any state, any owner) is never a removal.
 * - Only this instance's app images (`kiln.managed`, `kiln.instance=<id>`, `kiln.kind=app`) are
 *   candidates, plus `kiln/railpack-load:<build>` tags whose build this store knows and has ended
 *   (Railpack's loaded image, left when Kiln died before it removed it). Anything else is untouched.
 * - A deployment keeps the images of its kept builds (`keptBuilds`): those in flight, its current one,
 *   its last `keepImages` successful ones, and every build a kept release runs (rollback needs them). The rest go, and so do images of failed or cancelled
 *   builds and of builds no row knows (their deployment was removed).
 * - Uploads no deployment's source names, and build work dirs of ended or unknown builds, go; an entry
 *   no row explains is left alone for GRACE_MS after its last write (an upload still arriving, a
 *   deployment being created). The caller reads the engine and the disk before the store, so a row
 *   made after an entry is always seen.
 */
import type { Build, Deployment } from "../core/deployment.ts";
import { INSTANCE, MANAGED } from "../core/labels.ts";
import type { ImageSummary } from "../core/ports/runtime.ts";

/** How long an upload or work dir no row explains is left alone after its last write. */
export const GRACE_MS = 60 * 60 * 1000;

/** The tag Railpack's image is loaded under before Kiln re-tags it (adapters/builders/railpack-builder.ts). */
export const RAILPACK_LOAD_REPO = "kiln/railpack-load";

export interface DirEntry {
  name: string;
  isFile: boolean;
  mtimeMs: number;
}

export interface GcInput {
  instanceId: string;
  /** Successful builds whose images each deployment keeps (KILN_KEEP_IMAGES). */
  keepImages: number;
  /** Builds whose images kept releases run (a rollback serves them again without a build). */
  releaseBuilds?: ReadonlySet<string>;
  deployments: Deployment[];
  /** Every build of every deployment. */
  builds: Build[];
  images: ImageSummary[];
  /** Image ids containers are made from. */
  imagesInUse: ReadonlySet<string>;
  /** Entries of $KILN_DATA_DIR/uploads. */
  uploads: DirEntry[];
  /** Entries of $KILN_DATA_DIR/builds (one work dir per build, named by its id). */
  workDirs: DirEntry[];
  now: number;
}

export type Removal =
  /** `refs`: the tags to delete (an image with several is gone once the last goes), or its id when dangling. */
  | { kind: "image"; imageId: string; refs: string[]; deploymentId: string | null; reason: string }
  | { kind: "upload"; name: string; reason: string }
  | { kind: "work-dir"; name: string; reason: string };

const IN_FLIGHT = new Set<Build["status"]>(["queued", "running"]);

/**
 * The builds whose images a deployment keeps: in flight, current (unless it failed), and the last
 * `keep` successful. (When releases come, this becomes "the builds of kept releases".)
 */
export function keptBuilds(deployment: Deployment, builds: Build[], keep: number): Set<string> {
  const own = builds.filter((b) => b.deploymentId === deployment.id);
  const kept = new Set(own.filter((b) => IN_FLIGHT.has(b.status)).map((b) => b.id));
  const current = own.find((b) => b.id === deployment.currentBuildId);
  if (current && current.status !== "failed" && current.status !== "cancelled") kept.add(current.id);
  const succeeded = own.filter((b) => b.status === "succeeded").sort((a, b) => b.number - a.number);
  for (const b of succeeded.slice(0, keep)) kept.add(b.id);
  return kept;
}

export function planGarbage(input: GcInput): Removal[] {
  return [...imageRemovals(input), ...uploadRemovals(input), ...workDirRemovals(input)];
}

function imageRemovals(input: GcInput): Removal[] {
  const builds = new Map(input.builds.map((b) => [b.id, b]));
  const deployments = new Map(input.deployments.map((d) => [d.id, d]));
  const kept = new Set<string>();
  for (const d of input.deployments) for (const id of keptBuilds(d, input.builds, input.keepImages)) kept.add(id);
  for (const id of input.releaseBuilds ?? []) kept.add(id);
  const label = (b: Build) => `build #${b.number} of ${deployments.get(b.deploymentId)?.name ?? b.deploymentId}`;

  const out: Removal[] = [];
  for (const img of input.images) {
    if (input.imagesInUse.has(img.id)) continue;
    const loadedFor = railpackLoadBuilds(img.tags);
    if (loadedFor.length > 0) {
      // Railpack's loaded images carry no labels; a build id this store knows makes the tag ours.
      const ended = loadedFor.filter((id) => builds.has(id) && !IN_FLIGHT.has(builds.get(id)!.status));
      if (ended.length > 0) {
        const b = builds.get(ended[0]!)!;
        out.push({ kind: "image", imageId: img.id, refs: ended.map((id) => `${RAILPACK_LOAD_REPO}:${id}`), deploymentId: b.deploymentId, reason: `loaded by Railpack for ${label(b)}, which has ended` });
      }
      continue;
    }
    const l = img.labels;
    if (l[MANAGED] !== "true" || l[INSTANCE] !== input.instanceId || l["kiln.kind"] !== "app" || !l["kiln.build"]) continue;
    const refs = img.tags.length === 0 ? [img.id] : img.tags.filter((t) => t.startsWith("kiln/"));
    if (refs.length === 0) continue; // tagged only by someone else: theirs to remove
    const buildId = l["kiln.build"];
    const b = builds.get(buildId);
    const removal = (reason: string, deploymentId: string | null): Removal => ({ kind: "image", imageId: img.id, refs, deploymentId, reason });
    if (!b) {
      const owner = deployments.get(l["kiln.deployment"] ?? "");
      out.push(removal(`no build row knows build ${buildId}${owner ? "" : " (its deployment was removed)"}`, owner?.id ?? null));
    } else if (kept.has(b.id)) {
      continue;
    } else if (b.status === "failed" || b.status === "cancelled") {
      out.push(removal(`${label(b)} ${b.status === "failed" ? "failed" : "was cancelled"}`, b.deploymentId));
    } else {
      out.push(removal(`${label(b)} is beyond retention (each deployment keeps the images of its last ${input.keepImages} successful builds)`, b.deploymentId));
    }
  }
  return out;
}

/** The build ids of `kiln/railpack-load:<id>` tags. */
function railpackLoadBuilds(tags: string[]): string[] {
  const prefix = `${RAILPACK_LOAD_REPO}:`;
  return tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
}

function uploadRemovals(input: GcInput): Removal[] {
  const named = new Set(input.deployments.flatMap((d) => (d.source.kind === "tarball" ? [`${d.source.uploadId}.tar`] : [])));
  const out: Removal[] = [];
  for (const e of input.uploads) {
    if (!e.isFile || named.has(e.name) || input.now - e.mtimeMs < GRACE_MS) continue;
    const reason = e.name.startsWith("incoming-")
      ? "an upload that never completed (untouched for over an hour)"
      : "no deployment's source is this upload (untouched for over an hour)";
    out.push({ kind: "upload", name: e.name, reason });
  }
  return out;
}

function workDirRemovals(input: GcInput): Removal[] {
  const builds = new Map(input.builds.map((b) => [b.id, b]));
  const out: Removal[] = [];
  for (const e of input.workDirs) {
    const b = builds.get(e.name);
    if (b && IN_FLIGHT.has(b.status)) continue;
    if (b) out.push({ kind: "work-dir", name: e.name, reason: `build #${b.number} has ended (${b.status})` });
    else if (input.now - e.mtimeMs >= GRACE_MS) out.push({ kind: "work-dir", name: e.name, reason: "no build row knows it (untouched for over an hour)" });
  }
  return out;
}

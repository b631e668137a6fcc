/**
 * Query strings of the image endpoints, as data: POST /build, POST /images/create
 * (import from a tar, or pull). Pure and unit-tested.
 */
import type { ImageBuildRequest } from "../../core/ports/runtime.ts";
import type { Query } from "./http.ts";

/** Split "repo[:tag]" at the tag colon (a registry port like host:5000/x is not a tag). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: "latest" };
}

/** POST /build with BuildKit (version=2); the context tar is the request body. */
export function buildQuery(req: Pick<ImageBuildRequest, "tag" | "dockerfile" | "labels" | "buildArgs">): Query {
  return {
    version: "2",
    t: req.tag,
    dockerfile: req.dockerfile,
    labels: JSON.stringify(req.labels),
    buildargs: JSON.stringify(req.buildArgs ?? {}),
    rm: true,
    forcerm: true,
  };
}

/** POST /images/create from a rootfs tar body (`docker import`). `changes` are Dockerfile lines. */
export function importQuery(ref: string, changes: string[]): Query {
  const { repo, tag } = splitRef(ref);
  return { fromSrc: "-", repo, tag, changes };
}

/** POST /images/create pulling from a registry. */
export function pullQuery(ref: string): Query {
  const { repo, tag } = splitRef(ref);
  return { fromImage: repo, tag };
}

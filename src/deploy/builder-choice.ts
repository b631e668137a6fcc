/**
 * Which builder builds a source tree: the first that applies, in the order railpack (when
 * installed), dockerfile (the app has one), kiln (zero-config fallback), whatever order the
 * builders are given in.
 */
import type { BuilderName } from "../core/deployment.ts";
import { StepError } from "../core/errors.ts";
import type { ImageBuilder } from "../core/ports/builder.ts";

export const BUILDER_ORDER: readonly BuilderName[] = ["railpack", "dockerfile", "kiln"];

export async function chooseBuilder(builders: readonly ImageBuilder[], srcDir: string): Promise<ImageBuilder> {
  const ordered = [...builders].sort((a, b) => BUILDER_ORDER.indexOf(a.name) - BUILDER_ORDER.indexOf(b.name));
  for (const b of ordered) {
    if (await b.applies(srcDir)) return b;
  }
  throw new StepError(
    `no image builder applies to this source (tried: ${ordered.map((b) => b.name).join(", ") || "none"})`,
    "add a Dockerfile, or a package.json, Procfile or index.html for Kiln's zero-config builder",
  );
}

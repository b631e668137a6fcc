/**
 * The image a Node.js app gets, from the version it asks for (.nvmrc, .node-version,
 * engines.node). In order, the first that is local or a registry gives:
 *   1. config.nodeImage, when no version is asked or its major satisfies the range;
 *   2. node:<major>-bookworm-slim for the newest major that satisfies it (pulled if need be),
 *      else one for an older satisfying major that is already local;
 *   3. the image assembled from the host's node, when the host's major satisfies it;
 *   4. what an app that asks for nothing gets (config.nodeImage, else the host's), with a warning.
 * A machine without a registry spends two failed pulls at most: config.nodeImage's and the
 * newest satisfying tag's.
 */
import type { ResolvedImage, RuntimeRequest } from "../builders/plan.ts";
import { tryPreferred, type BaseImageRuntime, type HostRuntime } from "./base-image.ts";
import { nodeMajorOf, nodeMajorSatisfies, officialNodeTag, readNodeRange, versionWarning } from "./runtime-versions.ts";

export interface NodeImageSource {
  runtime: BaseImageRuntime;
  /** The image preferred when it will do (config.nodeImage). */
  nodeImage?: string;
  /** How long one pull may try (default 5 s). */
  pullTimeoutMs?: number;
  /** The host's Node.js: probed when needed; image() assembles or reuses its image. */
  host(): Promise<HostRuntime>;
}

export async function resolveNodeImage(req: RuntimeRequest, src: NodeImageSource): Promise<ResolvedImage> {
  const available = (ref: string) => tryPreferred(src.runtime, ref, src.pullTimeoutMs ?? 5000);
  const defaultMajor = src.nodeImage ? nodeMajorOf(src.nodeImage) : undefined;
  const range = req.version ? readNodeRange(req.version) : null;

  if (!range) {
    const { ref, using } = await fallback(src, available);
    if (!req.version) return { ref };
    return { ref, warnings: [`${req.versionFrom ?? "the app"} asks for Node.js ${JSON.stringify(req.version)}, which Kiln cannot read as a version; building with ${using}`] };
  }

  const preferDefault = src.nodeImage !== undefined && defaultMajor !== undefined && nodeMajorSatisfies(range, defaultMajor);
  if (preferDefault && (await available(src.nodeImage!))) return { ref: src.nodeImage! };
  const [newest, ...older] = range.majors.map(officialNodeTag);
  if (newest && newest !== src.nodeImage && (await available(newest))) return { ref: newest };
  for (const tag of older) if (await src.runtime.imageExists(tag)) return { ref: tag };

  const host = await src.host().catch((err: unknown) => err as Error);
  if (!(host instanceof Error) && nodeMajorSatisfies(range, host.major)) return { ref: await host.image() };
  const warning = (using: string) =>
    versionWarning({ from: req.versionFrom, runtime: "Node.js", asked: req.version!, missing: range.majors.map((m) => `node:${m}`), using });
  if (src.nodeImage && !preferDefault && (await available(src.nodeImage))) {
    return { ref: src.nodeImage, warnings: [warning(describeDefault(src.nodeImage, defaultMajor))] };
  }
  if (host instanceof Error) throw host;
  return { ref: await host.image(), warnings: [warning(`the host's Node.js ${host.major}`)] };
}

/** What an app that asks for no version gets: config.nodeImage when it is here, else the host's. */
async function fallback(src: NodeImageSource, available: (ref: string) => Promise<boolean>): Promise<{ ref: string; using: string }> {
  if (src.nodeImage && (await available(src.nodeImage))) return { ref: src.nodeImage, using: describeDefault(src.nodeImage, nodeMajorOf(src.nodeImage)) };
  const host = await src.host();
  return { ref: await host.image(), using: `the host's Node.js ${host.major}` };
}

function describeDefault(ref: string, major: number | undefined): string {
  return major === undefined ? ref : `${ref} (Node.js ${major})`;
}

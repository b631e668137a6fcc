/**
 * The image a Node app is built FROM. With a registry, that is `node:20-bookworm-slim`; this
 * machine may have none, so when the preferred image is neither local nor pullable, Kiln
 * assembles one from the host's own node, npm and busybox and imports it as
 * `kiln/node-runtime:<major>-host`. Reused while the host's node version is unchanged.
 * tryPreferred, baseLabels, hostImageChanges and hasHostImage serve every host-assembled image
 * (bun-image.ts too).
 */
import type { ContainerRuntime, Labels } from "../../core/ports/runtime.ts";
import { probeHostNode, type HostNode } from "./host-node.ts";
import { CA_BUNDLE, nodeRootfsEntries } from "./node-rootfs.ts";
import { tarStream } from "./rootfs-tar.ts";

export type BaseImageRuntime = Pick<ContainerRuntime, "imageExists" | "importImage" | "listImages"> & {
  /** Optional: try a registry pull (DockerEngine has it). */
  pullImage?(ref: string, opts: { timeoutMs: number }): Promise<void>;
};

export interface NodeBaseOptions {
  /** A registry image to use when it is local or can be pulled, e.g. "node:20-bookworm-slim". */
  preferred?: string;
  /** How long a pull may try before we assemble from the host (default 5 s). */
  pullTimeoutMs?: number;
  /** The node to package (default: `node` on PATH). */
  nodePath?: string;
  /** Image ref to produce (default kiln/node-runtime:<major>-host). */
  ref?: string;
  /** Extra labels on the assembled image (tests add kiln.test=1). */
  labels?: Labels;
  /** The environment of the probes of the host's node (config.childEnv). */
  baseEnv?: Readonly<Record<string, string>>;
}

/** A runtime on the host (its version), and its image: assembled on first use, then reused. */
export interface HostRuntime {
  version: string;
  major: number;
  image(): Promise<string>;
}

export const nodeRuntimeRef = (major: number) => `kiln/node-runtime:${major}-host`;

export function nodeBaseLabels(version: string, extra: Labels = {}): Labels {
  return baseLabels("node", version, extra);
}

/** The labels of a host-assembled image: managed by Kiln, which runtime, which version of it. */
/**
 * The version of what a host-assembled image holds beyond the runtime itself (its rootfs layout).
 * Bumped when that changes, so images assembled before are made again (2: the common C libraries).
 */
export const ROOTFS_LAYOUT = "2";

export function baseLabels(base: string, version: string, extra: Labels = {}): Labels {
  return { "kiln.managed": "true", "kiln.base": base, "kiln.base.version": version, "kiln.base.layout": ROOTFS_LAYOUT, ...extra };
}

/** The PATH of every host-assembled image. */
export const HOST_IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin";

/**
 * Dockerfile instructions applied on import. HOME is left to Docker, which sets it from
 * /etc/passwd for the user a container runs as (/root for root, /home/app for app).
 */
export function nodeImageChanges(labels: Labels): string[] {
  return hostImageChanges(labels, { env: { NODE_EXTRA_CA_CERTS: CA_BUNDLE }, cmd: ["node"] });
}

/** The import instructions of any host-assembled image: PATH, the CA bundle, /app, labels, its command. */
export function hostImageChanges(labels: Labels, opts: { path?: string; env?: Record<string, string>; cmd: string[] }): string[] {
  const labelArgs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return [
    `ENV PATH=${opts.path ?? HOST_IMAGE_PATH}`,
    ...Object.entries(opts.env ?? {}).map(([k, v]) => `ENV ${k}=${v}`),
    `ENV SSL_CERT_FILE=${CA_BUNDLE}`,
    "WORKDIR /app",
    `LABEL ${labelArgs.join(" ")}`,
    `CMD ${JSON.stringify(opts.cmd)}`,
  ];
}

/** Whether `ref` is local, or a registry gives it within `timeoutMs`. */
export async function tryPreferred(runtime: BaseImageRuntime, ref: string, timeoutMs: number): Promise<boolean> {
  if (await runtime.imageExists(ref)) return true;
  if (!runtime.pullImage) return false;
  try {
    await runtime.pullImage(ref, { timeoutMs });
  } catch {
    return false; // no registry here is the normal case: assemble from the host instead
  }
  return runtime.imageExists(ref);
}

export async function ensureNodeBaseImage(runtime: BaseImageRuntime, opts: NodeBaseOptions = {}): Promise<string> {
  if (opts.preferred && (await tryPreferred(runtime, opts.preferred, opts.pullTimeoutMs ?? 5000))) {
    return opts.preferred;
  }
  const host = await probeHostNode({ nodePath: opts.nodePath, baseEnv: opts.baseEnv });
  return ensureHostNodeImage(runtime, host, opts);
}

/** The image of the host's node (probed already): reused while its version is unchanged, else imported. */
export async function ensureHostNodeImage(runtime: BaseImageRuntime, host: HostNode, opts: Pick<NodeBaseOptions, "ref" | "labels"> = {}): Promise<string> {
  const ref = opts.ref ?? nodeRuntimeRef(host.major);
  const labels = nodeBaseLabels(host.version, opts.labels);
  if (await hasHostImage(runtime, ref, { "kiln.base": "node", "kiln.base.version": host.version })) return ref;
  await importHostNode(runtime, host, ref, labels);
  return ref;
}

/** Whether `ref` names an image assembled earlier with these labels (the runtime versions in it). */
export async function hasHostImage(runtime: BaseImageRuntime, ref: string, match: Labels): Promise<boolean> {
  const existing = await runtime.listImages({ ...match, "kiln.base.layout": ROOTFS_LAYOUT });
  return existing.some((img) => img.tags.includes(ref));
}

export async function importHostNode(runtime: BaseImageRuntime, host: HostNode, ref: string, labels: Labels): Promise<void> {
  await runtime.importImage(tarStream(nodeRootfsEntries(host)), ref, nodeImageChanges(labels));
}

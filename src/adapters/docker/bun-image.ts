/**
 * The image a Bun app is built and run in: the official `oven/bun:<version>` ("packageManager":
 * "bun@<version>", else `oven/bun:1`) when it is local or a registry gives it; else one assembled
 * from the host's bun and imported as `kiln/bun-runtime:<bun version>-host`, reused while the
 * versions in it are unchanged. A version whose major the host's bun does not share is a warning.
 *
 * The assembled image is the official one's layout: /usr/local/bin/bun, `bunx` a link to it (bun
 * acts as bunx when called so), and /usr/local/bun-node-fallback-bin/node → bun last on PATH, so
 * `#!/usr/bin/env node` and `node x.js` work. It also carries the host's node and npm when the host
 * has them, ahead of that fallback: lifecycle scripts (a dependency's postinstall), build tools and
 * start scripts often call `node` and need the real one (Bun's stand-in cannot answer
 * `node --version`, and node-gyp or vue-tsc refuse it); Railpack installs Node.js beside Bun for
 * the same reasons. It costs one ~120 MB layer, shared by every Bun app on the machine.
 */
import { realpath } from "node:fs/promises";
import { KilnError } from "../../core/errors.ts";
import type { Labels } from "../../core/ports/runtime.ts";
import type { ResolvedImage, RuntimeRequest } from "../builders/plan.ts";
import { baseLabels, hasHostImage, HOST_IMAGE_PATH, hostImageChanges, tryPreferred, type BaseImageRuntime, type HostRuntime } from "./base-image.ts";
import { probeHostBase, probeHostNode, versionLine, type HostBase, type HostNode } from "./host-node.ts";
import { CA_BUNDLE, hostNodeParts, hostRootfsEntries } from "./node-rootfs.ts";
import { tarStream, type RootfsEntry } from "./rootfs-tar.ts";
import { bunMajorOf, officialBunTag, versionWarning } from "./runtime-versions.ts";

export const BUN_NODE_FALLBACK_DIR = "/usr/local/bun-node-fallback-bin";

export interface HostBun extends HostBase {
  /** The bun binary (symlinks resolved). */
  bunPath: string;
  /** e.g. "1.2.3" */
  version: string;
  major: number;
  /** The host's Node.js, carried beside bun; absent when the host has none. */
  node?: HostNode;
}

type Env = Readonly<Record<string, string>>;

/** A canary's "+<commit>" is not allowed in a tag. */
export const bunRuntimeRef = (version: string) => `kiln/bun-runtime:${version.replace(/[^\w.-]/g, "_")}-host`;

export function bunBaseLabels(host: Pick<HostBun, "version" | "node">, extra: Labels = {}): Labels {
  return baseLabels("bun", host.version, { ...(host.node ? { "kiln.base.node": host.node.version } : {}), ...extra });
}

/** Import instructions: bun's CA and cache settings, the node fallback last on PATH, `bun` as the command. */
export function bunImageChanges(labels: Labels): string[] {
  return hostImageChanges(labels, {
    path: `${HOST_IMAGE_PATH}:${BUN_NODE_FALLBACK_DIR}`,
    // Bun reads extra CAs from here too; its transpiler cache is no use in a throwaway container.
    env: { NODE_EXTRA_CA_CERTS: CA_BUNDLE, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" },
    cmd: ["bun"],
  });
}

export async function probeHostBun(opts: { bunPath?: string; nodePath?: string; baseEnv?: Env } = {}): Promise<HostBun> {
  const found = opts.bunPath ?? Bun.which("bun");
  if (!found) {
    throw new KilnError("unavailable", "no `bun` on PATH to build the Bun base image from", "install Bun on the host, or load oven/bun:1 into Docker");
  }
  const bunPath = await realpath(found);
  const { code, line: version } = await versionLine(bunPath, opts.baseEnv);
  const major = bunMajorOf(version);
  if (code !== 0 || major === undefined || !/^\d+\.\d+\.\d+[\w.+-]*$/.test(version)) {
    throw new KilnError("unavailable", `${bunPath} --version printed "${version}"`, "check the host's Bun install");
  }
  // Optional: without node the image still runs `node` scripts on Bun, as the official image does.
  const node = await probeHostNode({ nodePath: opts.nodePath, baseEnv: opts.baseEnv }).catch(() => undefined);
  const base = await probeHostBase(node ? [bunPath, node.nodePath] : [bunPath], opts.baseEnv);
  return { bunPath, version, major, ...(node ? { node } : {}), ...base };
}

export function bunRootfsEntries(host: HostBun, mtime?: number): AsyncGenerator<RootfsEntry> {
  const node = host.node ? hostNodeParts(host.node) : { files: [], trees: [], links: {}, dirs: [] };
  return hostRootfsEntries(
    {
      base: host,
      files: [{ from: host.bunPath, to: "usr/local/bin/bun", mode: 0o755 }, ...node.files],
      trees: node.trees,
      links: { "usr/local/bin/bunx": "bun", [`${BUN_NODE_FALLBACK_DIR.slice(1)}/node`]: "/usr/local/bin/bun", ...node.links },
      dirs: node.dirs,
    },
    mtime,
  );
}

/** The image of the host's bun (probed already): reused while the versions in it are unchanged. */
export async function ensureHostBunImage(runtime: BaseImageRuntime, host: HostBun, opts: { ref?: string; labels?: Labels } = {}): Promise<string> {
  const ref = opts.ref ?? bunRuntimeRef(host.version);
  const labels = bunBaseLabels(host, opts.labels);
  if (await hasHostImage(runtime, ref, bunBaseLabels(host))) return ref;
  await runtime.importImage(tarStream(bunRootfsEntries(host)), ref, bunImageChanges(labels));
  return ref;
}

export interface BunImageSource {
  runtime: BaseImageRuntime;
  /** How long the pull may try (default 5 s). */
  pullTimeoutMs?: number;
  /** The host's Bun: probed when needed; image() assembles or reuses its image. */
  host(): Promise<HostRuntime>;
}

export async function resolveBunImage(req: RuntimeRequest, src: BunImageSource): Promise<ResolvedImage> {
  const official = officialBunTag(req.version);
  if (await tryPreferred(src.runtime, official, src.pullTimeoutMs ?? 5000)) return { ref: official };
  const host = await src.host();
  const ref = await host.image();
  const asked = req.version ? bunMajorOf(req.version) : undefined;
  if (asked === undefined || asked === host.major) return { ref };
  const using = `the host's Bun ${host.version}`;
  return { ref, warnings: [versionWarning({ from: req.versionFrom, runtime: "Bun", asked: req.version!, missing: [official], using })] };
}

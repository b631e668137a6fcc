/**
 * The image a static site is served from: the host's Caddy (Kiln's proxy, so it is there) with
 * the libraries it links (libzstd, libc), busybox for a shell (a plain site's copy step runs in
 * it), /etc and an empty /srv; no Node.js. There is no registry to pull one from, so it is
 * assembled from the host and imported as `kiln/static-runtime:<caddy version>-host`, reused while
 * the host's caddy version is unchanged. The generated Dockerfile (builders/static-site.ts) adds
 * the site, the Caddyfile, the user and the command.
 */
import { realpath } from "node:fs/promises";
import { KilnError } from "../../core/errors.ts";
import type { Labels } from "../../core/ports/runtime.ts";
import { baseLabels, hasHostImage, hostImageChanges, type BaseImageRuntime } from "./base-image.ts";
import { probeHostBase, versionLine, type HostBase } from "./host-node.ts";
import { hostRootfsEntries } from "./node-rootfs.ts";
import { tarStream, type RootfsEntry } from "./rootfs-tar.ts";

export interface HostCaddy extends HostBase {
  /** The caddy binary (symlinks resolved). */
  caddyPath: string;
  /** As `caddy version` prints it, without a leading "v": "2.6.2". */
  version: string;
}

type Env = Readonly<Record<string, string>>;

export const staticRuntimeRef = (version: string) => `kiln/static-runtime:${version}-host`;

export function staticBaseLabels(version: string, extra: Labels = {}): Labels {
  return baseLabels("static", version, extra);
}

/** Import instructions: the common ones; the Dockerfile's final stage says how caddy runs. */
export function staticImageChanges(labels: Labels): string[] {
  return hostImageChanges(labels, { cmd: ["caddy", "version"] });
}

/** `caddy version` prints "2.6.2" (Debian) or "v2.7.6 h1:…" (upstream builds): the first word, without "v". */
export function parseCaddyVersion(line: string): string | undefined {
  const word = line.trim().split(/\s+/)[0]?.replace(/^v(?=\d)/, "") ?? "";
  return /^\d+\.\d+\.\d+[\w.-]*$/.test(word) ? word : undefined;
}

export async function probeHostCaddy(opts: { caddyPath?: string; baseEnv?: Env } = {}): Promise<HostCaddy> {
  const found = opts.caddyPath ?? Bun.which("caddy");
  if (!found) {
    throw new KilnError("unavailable", "no `caddy` on PATH to build the static site image from", "install Caddy 2 on the host (apt-get install caddy)");
  }
  const caddyPath = await realpath(found);
  const { code, line } = await versionLine(caddyPath, opts.baseEnv, ["version"]);
  const version = parseCaddyVersion(line);
  if (code !== 0 || version === undefined) {
    throw new KilnError("unavailable", `${caddyPath} version printed "${line}"`, "check the host's Caddy install");
  }
  return { caddyPath, version, ...(await probeHostBase([caddyPath], opts.baseEnv)) };
}

export function staticRootfsEntries(host: HostCaddy, mtime?: number): AsyncGenerator<RootfsEntry> {
  return hostRootfsEntries({ base: host, files: [{ from: host.caddyPath, to: "usr/bin/caddy", mode: 0o755 }], dirs: ["srv", "etc/caddy"] }, mtime);
}

/** The image of the host's caddy (probed already): reused while its version is unchanged, else imported. */
export async function ensureHostStaticImage(runtime: BaseImageRuntime, host: HostCaddy, opts: { ref?: string; labels?: Labels } = {}): Promise<string> {
  const ref = opts.ref ?? staticRuntimeRef(host.version);
  if (await hasHostImage(runtime, ref, staticBaseLabels(host.version))) return ref;
  await runtime.importImage(tarStream(staticRootfsEntries(host)), ref, staticImageChanges(staticBaseLabels(host.version, opts.labels)));
  return ref;
}

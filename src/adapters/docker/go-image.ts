/**
 * The image a Go app is built in, from go.mod's go line. In order:
 *   1. golang:<go line> (and golang:<major.minor> for a 1.22.3 line), local or pulled;
 *   2. an image assembled from the host's Go toolchain (kiln/go-runtime:<major.minor>-host), with a
 *      warning when it is older than the go line;
 *   3. neither: the build fails at once, saying what to provide.
 * Go before 1.21 cannot read a three-part go line ("go 1.22.0"), so with such a host toolchain that
 * fails at once too, instead of as a go.mod parse error deep in the build.
 */
import { StepError } from "../../core/errors.ts";
import type { Labels } from "../../core/ports/runtime.ts";
import type { ResolvedImage, RuntimeRequest } from "../builders/plan.ts";
import { baseLabels, hasHostImage, hostImageChanges, HOST_IMAGE_PATH, tryPreferred, type BaseImageRuntime, type HostRuntime } from "./base-image.ts";
import { GOROOT_IN_IMAGE, GO_TOOLCHAIN_MAX_BYTES, hostGoParts, type HostGo } from "./host-go.ts";
import { hostRootfsEntries } from "./node-rootfs.ts";
import { tarStream } from "./rootfs-tar.ts";
import { versionWarning } from "./runtime-versions.ts";

/** What an app whose go.mod has no go line gets when a registry answers (Railpack's default). */
export const DEFAULT_GO_VERSION = "1.25";

export interface GoImageSource {
  runtime: BaseImageRuntime;
  /** How long one pull may try (default 5 s). */
  pullTimeoutMs?: number;
  /** The host's Go toolchain, or null when the host has none. */
  host(): Promise<HostRuntime | null>;
}

export async function resolveGoImage(req: RuntimeRequest, src: GoImageSource): Promise<ResolvedImage> {
  const available = (ref: string) => tryPreferred(src.runtime, ref, src.pullTimeoutMs ?? 5000);
  const asked = req.version ? parseGoVersion(req.version) : null;
  const tags = officialGoTags(asked ? req.version! : DEFAULT_GO_VERSION);
  for (const tag of tags) if (await available(tag)) return { ref: tag };
  const host = await src.host();
  if (!host) {
    throw new StepError(
      `Go apps need a Go toolchain image (${tags.at(-1)}); none is on this engine and no registry answered`,
      `load one into the engine (docker save ${tags.at(-1)} where a registry answers, then docker load it here), ` +
        "install Go on this host (apt-get install golang-go), or add a Dockerfile that builds the app",
    );
  }
  const hostVersion = parseGoVersion(host.version)!;
  if (asked && asked.length === 3 && compareGo(hostVersion, [1, 21]) < 0) {
    throw new StepError(
      `go.mod's go line (${req.version}) needs Go 1.21 or newer to read it; the only Go toolchain here is the host's Go ${host.version}`,
      `write the go line as "go ${asked.slice(0, 2).join(".")}", load a ${tags.at(-1)} image into the engine, or add a Dockerfile`,
    );
  }
  const ref = await host.image();
  if (!asked || compareGo(hostVersion, asked) >= 0) return { ref };
  return {
    ref,
    warnings: [versionWarning({ from: req.versionFrom, runtime: "Go", asked: req.version!, missing: [tags.at(-1)!], using: `the host's Go ${host.version}` })],
  };
}

/** golang:1.22.3 then golang:1.22 for a "1.22.3" line; golang:1.22 for "1.22". */
export function officialGoTags(version: string): string[] {
  const v = parseGoVersion(version);
  if (!v) return [`golang:${DEFAULT_GO_VERSION}`];
  const minor = `golang:${v.slice(0, 2).join(".")}`;
  return v.length === 3 ? [`golang:${v.join(".")}`, minor] : [minor];
}

/** "1.22", "1.22.3", "1.21rc1" → numbers; null when not a Go version. */
export function parseGoVersion(text: string): number[] | null {
  const m = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(?:rc|beta)\d+)?$/.exec(text.trim());
  if (!m) return null;
  return m[3] === undefined ? [Number(m[1]), Number(m[2])] : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compareGo(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const goRuntimeRef = (version: string) => `kiln/go-runtime:${version.split(".").slice(0, 2).join(".")}-host`;

/**
 * The image of the host's Go (probed already): reused while its version is unchanged, else
 * imported. A toolchain over GO_TOOLCHAIN_MAX_BYTES is refused with the same advice as no toolchain.
 */
export async function ensureHostGoImage(runtime: BaseImageRuntime, host: HostGo, opts: { ref?: string; labels?: Labels } = {}): Promise<string> {
  const ref = opts.ref ?? goRuntimeRef(host.version);
  if (await hasHostImage(runtime, ref, { "kiln.base": "go", "kiln.base.version": host.version })) return ref;
  if (host.bytes > GO_TOOLCHAIN_MAX_BYTES) {
    throw new StepError(
      `the host's Go ${host.version} toolchain (${host.goroot}) is ${Math.round(host.bytes / 2 ** 20)} MB, too large to make an image of here`,
      "load a golang image into the engine, or add a Dockerfile that builds the app",
    );
  }
  const entries = hostRootfsEntries({ base: host, ...hostGoParts(host) });
  await runtime.importImage(tarStream(entries), ref, goImageChanges(baseLabels("go", host.version, opts.labels)));
  return ref;
}

/**
 * As the official image (GOPATH=/go, the toolchain on PATH), plus: no cgo (the image has no C
 * compiler) and no toolchain downloads (a go line newer than this toolchain fails saying so).
 */
export function goImageChanges(labels: Labels): string[] {
  return hostImageChanges(labels, {
    path: `/go/bin:/${GOROOT_IN_IMAGE}/bin:${HOST_IMAGE_PATH}`,
    env: { GOROOT: `/${GOROOT_IN_IMAGE}`, GOPATH: "/go", CGO_ENABLED: "0", GOTOOLCHAIN: "local" },
    cmd: ["go", "version"],
  });
}

/** The host's Go as a HostRuntime: its image assembled, or reused, when asked for. */
export function hostGoRuntime(runtime: BaseImageRuntime, host: HostGo, labels?: Labels): HostRuntime {
  return {
    version: host.version,
    major: Number(host.version.split(".")[0]),
    image: () => ensureHostGoImage(runtime, host, { labels }),
  };
}

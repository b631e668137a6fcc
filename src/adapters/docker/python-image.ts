/**
 * The image a Python app is built and run on, from the version it asks for (.python-version,
 * runtime.txt, Pipfile, requires-python). In order, the first that is local or a registry gives:
 *   1. python:<minor>-slim for the newest minor that satisfies it (3.13 when it asks for none),
 *      pulled if need be, else one for an older satisfying minor that is already local;
 *   2. the image assembled from the host's Debian python (kiln/python-runtime:<minor>-host), with
 *      a warning when its version does not satisfy what the app asked for.
 * Only step 1's newest minor tries a registry, so a machine without one spends one failed pull.
 */
import { StepError, errorMessage } from "../../core/errors.ts";
import type { Labels } from "../../core/ports/runtime.ts";
import type { ResolvedImage, RuntimeRequest } from "../builders/plan.ts";
import { baseLabels, hasHostImage, hostImageChanges, tryPreferred, type BaseImageRuntime, type HostRuntime } from "./base-image.ts";
import { hostPythonParts, type HostPython } from "./host-python.ts";
import { hostRootfsEntries } from "./node-rootfs.ts";
import { DEFAULT_PYTHON_MINOR, officialPythonTag, pythonSatisfies, readPythonRange } from "./python-versions.ts";
import { tarStream } from "./rootfs-tar.ts";
import { versionWarning } from "./runtime-versions.ts";

export interface PythonImageSource {
  runtime: BaseImageRuntime;
  /** How long one pull may try (default 5 s). */
  pullTimeoutMs?: number;
  /** The host's Python: probed when needed; image() assembles or reuses its image. */
  host(): Promise<HostRuntime>;
}

export async function resolvePythonImage(req: RuntimeRequest, src: PythonImageSource): Promise<ResolvedImage> {
  const available = (ref: string) => tryPreferred(src.runtime, ref, src.pullTimeoutMs ?? 5000);
  const range = req.version ? readPythonRange(req.version) : null;
  if (!range) {
    const official = officialPythonTag(DEFAULT_PYTHON_MINOR);
    if (await available(official)) return { ref: official };
    const host = await hostOrFail(src, official);
    const ref = await host.image();
    if (!req.version) return { ref };
    return { ref, warnings: [`${req.versionFrom ?? "the app"} asks for Python ${JSON.stringify(req.version)}, which Kiln cannot read as a version; building with the host's Python ${host.version}`] };
  }
  const [newest, ...older] = range.minors.map(officialPythonTag);
  if (newest && (await available(newest))) return { ref: newest };
  for (const tag of older) if (await src.runtime.imageExists(tag)) return { ref: tag };
  const host = await hostOrFail(src, newest ?? officialPythonTag(DEFAULT_PYTHON_MINOR));
  const ref = await host.image();
  if (pythonSatisfies(range, host.version)) return { ref };
  const warning = versionWarning({
    from: req.versionFrom,
    runtime: "Python",
    asked: req.version!,
    missing: range.minors.slice(0, 1).map(officialPythonTag),
    using: `the host's Python ${host.version}`,
  });
  return { ref, warnings: [warning] };
}

/** The host's Python, or a build error naming what to provide when it has none Kiln can use. */
async function hostOrFail(src: PythonImageSource, wanted: string): Promise<HostRuntime> {
  try {
    return await src.host();
  } catch (err) {
    throw new StepError(
      `Python apps need a Python image (${wanted}); none is on this engine, no registry answered, and the host's Python cannot be used: ${errorMessage(err)}`,
      "load one into the engine (docker save where a registry answers, then docker load here), install Debian's python3 and python3-venv on this host, or add a Dockerfile",
    );
  }
}

export const pythonRuntimeRef = (minor: string) => `kiln/python-runtime:${minor}-host`;

/**
 * The image of the host's Python (probed already): reused while its version is unchanged, else
 * imported. `labels`: extra labels (tests add kiln.test=1).
 */
export async function ensureHostPythonImage(runtime: BaseImageRuntime, host: HostPython, opts: { ref?: string; labels?: Labels } = {}): Promise<string> {
  const ref = opts.ref ?? pythonRuntimeRef(host.minor);
  const labels = baseLabels("python", host.version, opts.labels);
  if (await hasHostImage(runtime, ref, { "kiln.base": "python", "kiln.base.version": host.version })) return ref;
  const entries = hostRootfsEntries({ base: host, ...(await hostPythonParts(host)) });
  await runtime.importImage(tarStream(entries), ref, pythonImageChanges(labels));
  return ref;
}

/** As the official image: unbuffered-friendly UTF-8, and the interpreter as the default command. */
export function pythonImageChanges(labels: Labels): string[] {
  return hostImageChanges(labels, { env: { LANG: "C.UTF-8" }, cmd: ["python3"] });
}

/** The host's Python as a HostRuntime: its image assembled, or reused, when asked for. */
export function hostPythonRuntime(runtime: BaseImageRuntime, host: HostPython, labels?: Labels): HostRuntime {
  return {
    version: host.version,
    major: Number(host.version.split(".")[0]),
    image: () => ensureHostPythonImage(runtime, host, { labels }),
  };
}

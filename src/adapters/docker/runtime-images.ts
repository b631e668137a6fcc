/**
 * RuntimeRequest → image, for Kiln's zero-config builder: one place that knows, per runtime, the
 * official image to prefer (used when it is local or a registry answers) and how to assemble one
 * from the host when none does. A runtime neither way can give fails the build saying what to
 * provide.
 */
import { StepError } from "../../core/errors.ts";
import type { ResolvedImage, RuntimeRequest } from "../builders/plan.ts";
import { ensureHostNodeImage, type BaseImageRuntime, type HostRuntime } from "./base-image.ts";
import { ensureHostBunImage, probeHostBun, resolveBunImage } from "./bun-image.ts";
import { hostGoRuntime, resolveGoImage } from "./go-image.ts";
import { findHostGo, probeHostGo } from "./host-go.ts";
import { probeHostNode } from "./host-node.ts";
import { probeHostPython } from "./host-python.ts";
import { resolveNodeImage } from "./node-image.ts";
import { hostPythonRuntime, resolvePythonImage } from "./python-image.ts";
import { ensureHostStaticImage, probeHostCaddy } from "./static-image.ts";

export interface RuntimeImagesOptions {
  runtime: BaseImageRuntime;
  /** The Node image to prefer when the app asks for no version, or for one its major satisfies (config.nodeImage). */
  nodeImage?: string;
  /** The environment of the host probes (config.childEnv). */
  baseEnv?: Readonly<Record<string, string>>;
  /** The host's go to assemble a Go toolchain image from (default: go on PATH, /usr/local/go, /usr/lib/go); null: never. */
  goPath?: string | null;
}

/**
 * How long an answer is reused: finding it probes the host (its runtime's version and libraries) and
 * may try a registry, tens of milliseconds that every deploy would otherwise pay. A registry that
 * starts answering, or a host runtime upgraded, is seen within this time.
 */
const REMEMBER_MS = 5 * 60_000;

export class RuntimeImages {
  readonly #remembered = new Map<string, { image: ResolvedImage; at: number }>();

  constructor(private readonly opts: RuntimeImagesOptions & { now?: () => number }) {}

  async resolve(req: RuntimeRequest): Promise<ResolvedImage> {
    const key = JSON.stringify([req.name, req.version ?? null, req.versionFrom ?? null]);
    const now = (this.opts.now ?? Date.now)();
    const hit = this.#remembered.get(key);
    // Still there? (an image removed meanwhile is found or made again)
    if (hit && now - hit.at < REMEMBER_MS && (await this.opts.runtime.imageExists(hit.image.ref))) return hit.image;
    const image = await this.#resolve(req);
    this.#remembered.set(key, { image, at: now });
    return image;
  }

  async #resolve(req: RuntimeRequest): Promise<ResolvedImage> {
    switch (req.name) {
      case "node":
        return resolveNodeImage(req, { runtime: this.opts.runtime, nodeImage: this.opts.nodeImage, host: () => this.#hostNode() });
      case "bun":
        return resolveBunImage(req, { runtime: this.opts.runtime, host: () => this.#hostBun() });
      case "static":
        // Always the host's caddy: no registry image is preferred.
        return { ref: await ensureHostStaticImage(this.opts.runtime, await probeHostCaddy({ baseEnv: this.opts.baseEnv })) };
      case "python":
        return resolvePythonImage(req, { runtime: this.opts.runtime, host: () => this.#hostPython() });
      case "go":
        return resolveGoImage(req, { runtime: this.opts.runtime, host: () => this.#hostGo() });
      default:
        throw new StepError(`Kiln's builder has no ${req.name} runtime image yet`, `add a Dockerfile to build this app`);
    }
  }

  async #hostNode(): Promise<HostRuntime> {
    const host = await probeHostNode({ baseEnv: this.opts.baseEnv });
    return { version: host.version, major: host.major, image: () => ensureHostNodeImage(this.opts.runtime, host) };
  }

  async #hostPython(): Promise<HostRuntime> {
    return hostPythonRuntime(this.opts.runtime, await probeHostPython({ baseEnv: this.opts.baseEnv }));
  }

  async #hostGo(): Promise<HostRuntime | null> {
    const go = this.opts.goPath === null ? null : await findHostGo(this.opts.goPath, this.opts.baseEnv);
    return go ? hostGoRuntime(this.opts.runtime, await probeHostGo(go, this.opts.baseEnv)) : null;
  }

  async #hostBun(): Promise<HostRuntime> {
    const host = await probeHostBun({ baseEnv: this.opts.baseEnv });
    return { version: host.version, major: host.major, image: () => ensureHostBunImage(this.opts.runtime, host) };
  }
}

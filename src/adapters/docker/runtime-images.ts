/**
 * RuntimeRequest → image, for Kiln's zero-config builder: one place that knows, per runtime, the
 * official image to prefer (used when it is local or a registry answers) and how to assemble one
 * from the host when none does. A runtime neither way can give fails the build saying what to
 * provide.
 */
import { StepError } from "../../core/errors.ts";
import type { ResolvedImage, RuntimeRequest } from "../builders/plan.ts";
import { ensureNodeBaseImage, type BaseImageRuntime } from "./base-image.ts";

export interface RuntimeImagesOptions {
  runtime: BaseImageRuntime;
  /** The Node image to prefer when the app asks for no version (config.nodeImage). */
  nodeImage?: string;
  /** The environment of the host probes (config.childEnv). */
  baseEnv?: Readonly<Record<string, string>>;
}

export class RuntimeImages {
  constructor(private readonly opts: RuntimeImagesOptions) {}

  async resolve(req: RuntimeRequest): Promise<ResolvedImage> {
    switch (req.name) {
      case "node":
        return { ref: await ensureNodeBaseImage(this.opts.runtime, { preferred: this.opts.nodeImage, baseEnv: this.opts.baseEnv }) };
      default:
        throw new StepError(`Kiln's builder has no ${req.name} runtime image yet`, `add a Dockerfile to build this app`);
    }
  }
}

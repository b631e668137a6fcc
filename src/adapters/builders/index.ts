/**
 * The image builders Kiln has, in the order they are tried (see choose.ts): Railpack when it
 * is set up, the app's own Dockerfile, Kiln's zero-config builder.
 */
import type { ImageBuilder } from "../../core/ports/builder.ts";
import type { ContainerRuntime } from "../../core/ports/runtime.ts";
import type { PackDir } from "./build-context.ts";
import { DockerfileBuilder } from "./dockerfile-builder.ts";
import { KilnBuilder, type KilnBuilderOptions } from "./kiln-builder.ts";
import { RailpackBuilder } from "./railpack-builder.ts";

export { chooseBuilder } from "../../deploy/builder-choice.ts";

export interface BuildersDeps {
  /** A runtime with `loadImage` (POST /images/load) can also use Railpack. */
  runtime: ContainerRuntime & { loadImage?(tar: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<void> };
  baseImage: KilnBuilderOptions["baseImage"];
  packDir?: PackDir;
  /** Railpack's BuildKit address and frontend, and the environment railpack and buildctl start from. */
  railpack?: { buildkitHost?: string; frontendImage?: string; baseEnv?: Readonly<Record<string, string>> };
}

export function createBuilders(deps: BuildersDeps): ImageBuilder[] {
  const { runtime } = deps;
  const loadImage = runtime.loadImage ? (tar: ReadableStream<Uint8Array>, signal?: AbortSignal) => runtime.loadImage!(tar, signal) : undefined;
  return [
    new RailpackBuilder({ runtime, loadImage, ...deps.railpack }),
    new DockerfileBuilder({ runtime, packDir: deps.packDir }),
    new KilnBuilder({ runtime, baseImage: deps.baseImage, packDir: deps.packDir }),
  ];
}

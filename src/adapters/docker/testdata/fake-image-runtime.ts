/**
 * A BaseImageRuntime for the tests of image choice: which images are local, which a registry
 * would give, and a record of what was asked, in order ("exists x", "pull x", "import x").
 */
import type { Labels } from "../../../core/ports/runtime.ts";
import type { BaseImageRuntime, HostRuntime } from "../base-image.ts";

export interface FakeImageRuntime extends BaseImageRuntime {
  calls: string[];
  imports: { ref: string; changes: string[] }[];
}

export function fakeImageRuntime(opts: { local?: string[]; pullable?: string[]; listed?: { tags: string[]; labels: Labels }[] } = {}): FakeImageRuntime {
  const local = new Set(opts.local ?? []);
  const calls: string[] = [];
  const imports: { ref: string; changes: string[] }[] = [];
  return {
    calls,
    imports,
    async imageExists(ref) {
      calls.push(`exists ${ref}`);
      return local.has(ref);
    },
    async pullImage(ref) {
      calls.push(`pull ${ref}`);
      if (!opts.pullable?.includes(ref)) throw new Error(`dial tcp: lookup registry-1.docker.io: no such host`);
      local.add(ref);
    },
    async listImages(labels) {
      return (opts.listed ?? [])
        .filter((img) => Object.entries(labels).every(([k, v]) => img.labels[k] === v))
        .map((img, i) => ({ id: `sha256:${i}`, ...img }));
    },
    async importImage(_rootfs, ref, changes) {
      calls.push(`import ${ref}`);
      imports.push({ ref, changes });
    },
  };
}

/** A host runtime of `version` whose image is `ref`; `calls` records the probe and the assembly. */
export function fakeHost(version: string, major: number, ref: string, calls: string[]): () => Promise<HostRuntime> {
  return async () => {
    calls.push("probe host");
    return {
      version,
      major,
      image: async () => {
        calls.push(`host image ${ref}`);
        return ref;
      },
    };
  };
}

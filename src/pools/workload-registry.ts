/**
 * The workloads Kiln knows now, by id: set from the workloads folder (WorkloadWatcher) and read by
 * the claim path. Resolves `image: deployment:<name>` to that deployment's current image.
 */
import { badRequest, notFound } from "../core/errors.ts";
import type { Store } from "../core/ports/store.ts";
import type { WorkloadSpec } from "../core/workload.ts";

export class WorkloadRegistry {
  #byId = new Map<string, WorkloadSpec>();
  /** Specs by hash, kept while members made from them may still be claimed (release needs their sync). */
  #byHash = new Map<string, WorkloadSpec>();
  #errors: { file: string; message: string }[] = [];

  constructor(private readonly store: Store) {}

  set(workloads: WorkloadSpec[], errors: { file: string; message: string }[]): void {
    this.#byId = new Map(workloads.map((w) => [w.id, w]));
    for (const w of workloads) this.#byHash.set(w.hash, w);
    this.#errors = errors;
  }

  get(id: string): WorkloadSpec {
    const w = this.#byId.get(id);
    if (!w) {
      throw notFound(`no workload ${JSON.stringify(id.slice(0, 60))}`, `known workloads: ${[...this.#byId.keys()].join(", ") || "none"} (YAML files in the workloads folder)`);
    }
    return w;
  }

  find(id: string): WorkloadSpec | undefined {
    return this.#byId.get(id);
  }

  /** The spec a member was made from: current, or an older version still serving a tenant. */
  forMember(m: { workloadId: string; specHash: string }): WorkloadSpec | undefined {
    return this.#byHash.get(m.specHash) ?? this.#byId.get(m.workloadId);
  }

  all(): WorkloadSpec[] {
    return [...this.#byId.values()];
  }

  errors(): { file: string; message: string }[] {
    return this.#errors;
  }

  /** The image to run: as written, or a deployment's current build image. */
  async image(w: WorkloadSpec): Promise<string> {
    const m = /^deployment:(.+)$/.exec(w.image);
    if (!m) return w.image;
    const d = await this.store.deployments.getByName(m[1]!);
    const build = d?.currentBuildId ? await this.store.builds.get(d.currentBuildId) : null;
    const image = build?.status === "succeeded" ? build.image : null;
    if (!image) {
      throw badRequest(`workload ${w.id}: deployment ${m[1]} has no successful build to take the image from`, "deploy it first, or name an image");
    }
    return image;
  }
}

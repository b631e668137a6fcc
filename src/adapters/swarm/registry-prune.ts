/**
 * Keeping Kiln's own registry from growing forever. The registry mirrors what the engine keeps:
 * a tag of Kiln's app images (`kiln/app-<name>:<build>`) stays while the manager's engine still has
 * that image — garbage collection (reconcile/gc.ts) decides retention once, for both — and goes
 * when the image went. A manifest is deleted by digest, which drops every tag pointing at it, so a
 * digest that any kept tag also names is never deleted. Blobs no manifest references any more are
 * reclaimed by `docker-registry garbage-collect` when Kiln next starts its registry (it must not run
 * while pushes may come in). Only for the registry Kiln runs itself: one named by KILN_REGISTRY may
 * hold other clusters' images, and is its operator's to prune.
 */
import { KilnError } from "../../core/errors.ts";

/** Kiln's app image repositories (core/labels.ts imageTag: kiln/app-<deployment name>). */
const APP_REPO = /^kiln\/app-[a-z0-9][a-z0-9._-]{0,127}$/;
/** A Distribution tag (Kiln's are build ids). */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** The Distribution API calls pruning needs, on one registry (`host:port`, plain HTTP: loopback). */
export class RegistryHttp {
  constructor(private readonly address: string) {}

  async catalog(): Promise<string[]> {
    const repos: string[] = [];
    let path: string | null = "/v2/_catalog?n=1000";
    while (path) {
      const res = await this.#get(path);
      repos.push(...(((await res.json()) as { repositories?: string[] }).repositories ?? []));
      path = nextPage(res.headers.get("link"));
    }
    return repos;
  }

  /** The repository's tags ([] when it has none left). */
  async tags(repo: string): Promise<string[]> {
    const res = await fetch(`http://${this.address}/v2/${repo}/tags/list`);
    if (res.status === 404) return (await res.arrayBuffer(), []);
    if (!res.ok) throw await this.#failure(res, `list the tags of ${repo}`);
    return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
  }

  /** The digest `repo:tag` names, or null when the tag is gone. */
  async digest(repo: string, tag: string): Promise<string | null> {
    const res = await fetch(`http://${this.address}/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { accept: MANIFEST_TYPES } });
    if (res.status === 404) return null;
    if (!res.ok) throw await this.#failure(res, `read ${repo}:${tag}`);
    return res.headers.get("docker-content-digest");
  }

  async deleteManifest(repo: string, digest: string): Promise<void> {
    const res = await fetch(`http://${this.address}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
    await res.arrayBuffer();
    if (res.status === 404) return; // gone already
    if (res.status !== 202 && !res.ok) throw new KilnError("unavailable", `the registry refused to delete ${repo}@${digest} (HTTP ${res.status})`);
  }

  async #get(path: string): Promise<Response> {
    const res = await fetch(`http://${this.address}${path}`);
    if (!res.ok) throw await this.#failure(res, `read ${path}`);
    return res;
  }

  async #failure(res: Response, what: string): Promise<KilnError> {
    const text = (await res.text().catch(() => "")).slice(0, 200);
    return new KilnError("unavailable", `the registry at ${this.address} could not ${what}: HTTP ${res.status} ${text}`);
  }
}

/** The next page of a paged listing, from its Link header (`</v2/_catalog?last=x&n=1000>; rel="next"`). */
export function nextPage(link: string | null): string | null {
  const m = link?.match(/<([^>]+)>;\s*rel="?next"?/);
  return m ? m[1]! : null;
}

/**
 * Delete the registry's app image tags whose image the engine no longer has. `hasLocal` answers for
 * `kiln/app-<name>:<build>`. Returns what was deleted, as `repo:tag`.
 */
export async function pruneRegistry(reg: Pick<RegistryHttp, "catalog" | "tags" | "digest" | "deleteManifest">, hasLocal: (image: string) => Promise<boolean>): Promise<string[]> {
  const deleted: string[] = [];
  for (const repo of await reg.catalog()) {
    // Names go into request paths: only Kiln's own app repositories, as Kiln names them (core/labels.ts).
    if (!APP_REPO.test(repo)) continue;
    const kept = new Set<string>();
    const gone = new Map<string, string[]>(); // digest → its tags to delete
    for (const tag of await reg.tags(repo)) {
      if (!TAG.test(tag)) continue;
      const digest = await reg.digest(repo, tag);
      if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) continue;
      if (await hasLocal(`${repo}:${tag}`)) kept.add(digest);
      else gone.set(digest, [...(gone.get(digest) ?? []), tag]);
    }
    for (const [digest, tags] of gone) {
      if (kept.has(digest)) continue; // the same image under a tag that stays
      await reg.deleteManifest(repo, digest);
      deleted.push(...tags.map((t) => `${repo}:${t}`));
    }
  }
  return deleted;
}

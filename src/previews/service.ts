/**
 * Previews: a deployment per pull request (or per ref asked through the API), at its own URL,
 * made, updated and removed through DeploymentService like any other deployment. A preview is a
 * git deployment named `<app>-pr-<n>` / `<app>-<ref>` (naming.ts) with `preview` set, the app's
 * settings made safe and its env filtered (inherit.ts). A sweeper removes previews past the app's
 * TTL or max (expiry.ts) and previews whose app is gone, each removal logged on the app's log.
 *
 *   const previews = new PreviewService({ deployments: service, store, log });
 *   previews.start();                                   // the sweeper
 *   await previews.onPullRequest(app, event, "github"); // from the webhook (src/hooks)
 */
import type { Deployment } from "../core/deployment.ts";
import { badRequest, conflict, errorMessage, KilnError } from "../core/errors.ts";
import type { HookProvider, PullRequestEvent, PreviewInfo } from "../core/hooks.ts";
import type { Store } from "../core/ports/store.ts";
import type { ReleaseVia } from "../core/release.ts";
import type { DeploymentService } from "../deploy/service.ts";
import { KeyedLock } from "../pools/keyed-lock.ts";
import { expiredPreviews } from "./expiry.ts";
import { mayHaveSecrets, previewEnv, previewSettings } from "./inherit.ts";
import { previewName, prSuffix, refSuffix } from "./naming.ts";

/** What DeploymentService does for previews. */
export type PreviewDeployments = Pick<DeploymentService, "get" | "createFromGit" | "createFromUpload" | "redeploy" | "remove" | "appEnv" | "gitToken">;

export interface PreviewServiceDeps {
  deployments: PreviewDeployments;
  store: Pick<Store, "deployments">;
  /** A line on a deployment's log (the app's, for its previews' comings and goings). */
  log: (deploymentId: string, text: string) => void;
  now?: () => number;
  /** The sweeper's period; default one minute. */
  sweepEveryMs?: number;
  /** A redeploy refused because a build is in progress is tried again this often; default 2 s. */
  retryEveryMs?: number;
}

/** What a pull request delivery did, for the webhook's answer. */
export interface PreviewOutcome {
  status: "ignored" | "created" | "redeployed" | "removed" | "failed";
  message: string;
}

/** A redeploy waiting for a build in progress is given up after this many tries. */
const MAX_RETRIES = 450;

export class PreviewService {
  readonly #d: PreviewServiceDeps;
  readonly #lock = new KeyedLock();
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly #retries = new Map<string, ReturnType<typeof setTimeout>>();
  #sweeping: Promise<unknown> | null = null;

  constructor(deps: PreviewServiceDeps) {
    this.#d = deps;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep().catch(() => {}), this.#d.sweepEveryMs ?? 60_000);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const t of this.#retries.values()) clearTimeout(t);
    this.#retries.clear();
  }

  /** The app's previews, newest first. */
  async list(parent: Deployment): Promise<Deployment[]> {
    return (await this.#d.store.deployments.list()).filter((d) => d.preview?.parentId === parent.id).sort((a, b) => b.createdAt - a.createdAt);
  }

  /** A pull/merge request delivery: open → a preview, update → its redeploy, close → its removal. */
  async onPullRequest(parent: Deployment, ev: PullRequestEvent, provider: HookProvider): Promise<PreviewOutcome> {
    return this.#lock.run(parent.id, async () => {
      try {
        return await this.#onPullRequest(parent, ev, provider);
      } catch (err) {
        const hint = err instanceof KilnError && err.hint ? ` (${err.hint})` : "";
        return { status: "failed", message: `preview of pull request #${ev.number}: ${errorMessage(err)}${hint}` };
      }
    });
  }

  async #onPullRequest(parent: Deployment, ev: PullRequestEvent, provider: HookProvider): Promise<PreviewOutcome> {
    const ignored = (message: string): PreviewOutcome => ({ status: "ignored", message });
    if (parent.preview) return ignored(`${parent.name} is itself a preview: hook the app, not its preview`);
    const existing = (await this.list(parent)).find((p) => p.preview!.number === ev.number);
    if (ev.action === "close") {
      if (!existing) return ignored(`${parent.name} has no preview of pull request #${ev.number}`);
      await this.#remove(parent.id, existing, `pull request #${ev.number} closed`);
      return { status: "removed", message: `preview ${existing.name} removed: pull request #${ev.number} closed` };
    }
    const rules = parent.settings.previews;
    if (!rules.enabled) return ignored(`previews are off for ${parent.name}: PATCH settings {previews: {enabled: true}}`);
    if (ev.fork && !rules.forks) {
      return ignored(`pull request #${ev.number} comes from a fork and previews of forks are off for ${parent.name}: PATCH settings {previews: {enabled: true, forks: true}} (a fork's preview never gets secrets)`);
    }
    if (parent.source.kind !== "git") return ignored(`${parent.name} was deployed from a tarball: a pull request's preview needs an app deployed from git`);
    const gitUrl = ev.fork ? ev.cloneUrl : parent.source.url;
    if (!gitUrl) return ignored(`the ${provider} payload names no repository to clone pull request #${ev.number} from`);
    const info: PreviewInfo = { parentId: parent.id, number: ev.number, ref: ev.headRef, commit: ev.headSha || null, fork: ev.fork, createdAt: this.#now() };
    if (existing) {
      await this.#d.store.deployments.update(existing.id, { preview: { ...existing.preview!, commit: info.commit, ref: info.ref } });
      const how = await this.#redeploy(existing.id, "webhook", info.commit);
      return { status: "redeployed", message: `preview ${existing.name} ${how} at ${shortSha(info.commit) ?? ev.headRef}` };
    }
    const created = await this.#create(parent, { gitUrl, ref: ev.headRef, info, suffix: prSuffix(ev.number), via: "webhook", withToken: !ev.fork });
    return { status: "created", message: `preview ${created.name} of pull request #${ev.number} is deploying` };
  }

  /** A preview of `ref` (a branch, tag or commit of the app's repository) asked through the API; again for the same ref redeploys it. */
  async fromRef(parent: Deployment, ref: string, via: ReleaseVia = "api"): Promise<Deployment> {
    return this.#lock.run(parent.id, async () => {
      if (parent.preview) throw badRequest(`${parent.name} is itself a preview`, `make the preview of its app (${parent.preview.parentId}) instead`);
      if (!parent.settings.previews.enabled) throw conflict(`previews are off for ${parent.name}`, "PATCH settings {previews: {enabled: true}}");
      if (parent.source.kind !== "git") throw badRequest(`${parent.name} was deployed from a tarball: a preview of a ref needs an app deployed from git`, "deploy the branch's tarball as a deployment of its own");
      const previews = await this.list(parent);
      const existing = previews.find((p) => p.preview!.number === null && p.preview!.ref === ref);
      if (existing) {
        await this.#redeploy(existing.id, via);
        return this.#d.deployments.get(existing.id);
      }
      const info: PreviewInfo = { parentId: parent.id, number: null, ref, commit: null, fork: false, createdAt: this.#now() };
      return this.#create(parent, { gitUrl: parent.source.url, ref, info, suffix: refSuffix(ref, previews.length + 1), via, withToken: true });
    });
  }

  /**
   * A preview from a tarball a CI uploaded (`label` names it, like a ref): for an app deployed from
   * git or from a tarball. Again for the same label: the old preview goes and the new upload takes its
   * name. `file` is the upload already on disk (moved into Kiln's uploads directory).
   */
  async fromUpload(parent: Deployment, file: string, label: string, via: ReleaseVia = "api"): Promise<Deployment> {
    return this.#lock.run(parent.id, async () => {
      if (parent.preview) throw badRequest(`${parent.name} is itself a preview`, `make the preview of its app (${parent.preview.parentId}) instead`);
      if (!parent.settings.previews.enabled) throw conflict(`previews are off for ${parent.name}`, "PATCH settings {previews: {enabled: true}}");
      const previews = await this.list(parent);
      const existing = previews.find((p) => p.preview!.number === null && p.preview!.ref === label && p.source.kind === "tarball");
      if (existing) await this.#remove(parent.id, existing, `replaced by a new upload of ${label}`);
      const info: PreviewInfo = { parentId: parent.id, number: null, ref: label, commit: null, fork: false, createdAt: this.#now() };
      const names = new Set((await this.#d.store.deployments.list()).map((d) => d.name));
      const name = previewName(parent.name, refSuffix(label, previews.length + 1), (n) => names.has(n));
      const secrets = mayHaveSecrets(parent.settings, false);
      const created = await this.#d.deployments.createFromUpload(file, {
        name,
        env: previewEnv(await this.#d.deployments.appEnv(parent.id), { secrets }),
        settings: previewSettings(parent.settings),
        networks: secrets ? parent.networks : [],
        preview: info,
        via,
      });
      this.#d.log(parent.id, `preview ${name} of an upload (${label}) created`);
      void this.sweep().catch(() => {});
      return created;
    });
  }

  /**
   * Remove previews past their app's TTL or max, and previews whose app is gone. `now` may be
   * given (tests); passes run one at a time. Returns what was removed, and why.
   */
  async sweep(now = this.#now()): Promise<{ name: string; why: string }[]> {
    while (this.#sweeping) await this.#sweeping.catch(() => {});
    const pass = this.#sweep(now);
    this.#sweeping = pass;
    try {
      return await pass;
    } finally {
      this.#sweeping = null;
    }
  }

  async #sweep(now: number): Promise<{ name: string; why: string }[]> {
    const all = await this.#d.store.deployments.list();
    const byId = new Map(all.map((d) => [d.id, d]));
    const removed: { name: string; why: string }[] = [];
    const groups = new Map<string, Deployment[]>();
    for (const d of all) if (d.preview) groups.set(d.preview.parentId, [...(groups.get(d.preview.parentId) ?? []), d]);
    for (const [parentId, previews] of groups) {
      const parent = byId.get(parentId);
      const expired = parent
        ? expiredPreviews(previews.map((p) => ({ id: p.id, name: p.name, createdAt: p.preview!.createdAt })), parent.settings.previews, now)
        : previews.map((p) => ({ id: p.id, name: p.name, why: "its app is gone" }));
      for (const e of expired) {
        await this.#lock.run(parentId, async () => {
          const still = await this.#d.store.deployments.get(e.id);
          if (!still) return;
          await this.#remove(parent ? parentId : null, still, e.why);
          removed.push({ name: e.name, why: e.why });
        });
      }
    }
    return removed;
  }

  async #create(
    parent: Deployment,
    o: { gitUrl: string; ref: string; info: PreviewInfo; suffix: string; via: ReleaseVia; withToken: boolean },
  ): Promise<Deployment> {
    const names = new Set((await this.#d.store.deployments.list()).map((d) => d.name));
    const name = previewName(parent.name, o.suffix, (n) => names.has(n));
    const env = previewEnv(await this.#d.deployments.appEnv(parent.id), { secrets: mayHaveSecrets(parent.settings, o.info.fork) });
    const token = o.withToken ? await this.#d.deployments.gitToken(parent.id) : null;
    const created = await this.#d.deployments.createFromGit({
      gitUrl: o.gitUrl,
      ref: o.ref,
      gitToken: token ?? undefined,
      name,
      env,
      settings: previewSettings(parent.settings),
      // The app's shared networks reach its other services (a database): only for a preview trusted with secrets.
      networks: mayHaveSecrets(parent.settings, o.info.fork) ? parent.networks : [],
      preview: o.info,
      via: o.via,
    });
    const what = o.info.number === null ? `ref ${o.ref}` : `pull request #${o.info.number}${o.info.fork ? " (from a fork: no secrets)" : ""}`;
    this.#d.log(parent.id, `preview ${name} of ${what} created`);
    // Making room happens at once: past max, the oldest goes (never the one just made: it is the newest).
    void this.sweep().catch(() => {});
    return created;
  }

  async #remove(parentId: string | null, preview: Deployment, why: string): Promise<void> {
    this.#cancelRetry(preview.id);
    await this.#d.deployments.remove(preview.id, { volumes: true });
    if (parentId) this.#d.log(parentId, `preview ${preview.name} removed: ${why}`);
  }

  /**
   * Redeploy: exactly `commit` when given (DeploymentService coalesces pushes), else the ref's
   * newest head, now or when the build in progress ends.
   */
  async #redeploy(id: string, via: ReleaseVia, commit?: string | null): Promise<"redeploying" | "queued after the build in progress"> {
    if (commit && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
      await this.#d.deployments.redeploy(id, via, { commit });
      return "redeploying";
    }
    try {
      await this.#d.deployments.redeploy(id, via);
      return "redeploying";
    } catch (err) {
      if (!(err instanceof KilnError && err.kind === "conflict")) throw err;
      this.#retryLater(id, via, 1);
      return "queued after the build in progress";
    }
  }

  #retryLater(id: string, via: ReleaseVia, attempt: number): void {
    if (this.#retries.has(id) && attempt === 1) return; // one follow-up per preview is enough: it builds the newest head
    const timer = setTimeout(async () => {
      this.#retries.delete(id);
      try {
        await this.#d.deployments.redeploy(id, via);
      } catch (err) {
        if (err instanceof KilnError && err.kind === "conflict" && attempt < MAX_RETRIES) this.#retryLater(id, via, attempt + 1);
      }
    }, this.#d.retryEveryMs ?? 2_000);
    timer.unref?.();
    this.#retries.set(id, timer);
  }

  #cancelRetry(id: string): void {
    const t = this.#retries.get(id);
    if (t) clearTimeout(t);
    this.#retries.delete(id);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }
}

const shortSha = (sha: string | null): string | null => (sha ? sha.slice(0, 12) : null);

/**
 * What the API asks of deployments: create, list, redeploy, stop, delete; releases and rollback;
 * env and settings. Owns the lifecycle moves and the deployment's desired env and settings; the
 * work itself runs in the job queue (BuildRunner: a build, or a swap on an image already built),
 * and keeping apps up in reconcile/app-convergence.ts.
 *
 * A change (env, settings, rollback) is saved, then applied by a new release: a swap on the
 * serving image, or a build when the change needs one (build-time variables, buildCommand,
 * rootDir). A stopped or never-deployed app just keeps the change for its next deploy. With
 * `wait`, the call returns when the new release serves, or throws why it did not (the old one
 * still serving).
 */
import { access, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Build, Deployment, SourceSpec } from "../core/deployment.ts";
import { deploymentLifecycle } from "../core/deployment.ts";
import { buildEnvChanged, checkName, decodeEnv, describeEnv, describeEnvChange, encodeEnv, runtimeEnv, type AppEnv } from "../core/env.ts";
import { badRequest, conflict, errorMessage, KilnError, notFound } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { MANAGED } from "../core/labels.ts";
import { generateDeploymentName, validateDeploymentName } from "../core/names.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { RouteTable } from "../core/ports/routes.ts";
import type { FetchRequest } from "../core/ports/source.ts";
import type { SharedUploads } from "../core/ports/uploads.ts";
import type { Store } from "../core/ports/store.ts";
import { releaseEnvKey, type Release, type ReleaseVia } from "../core/release.ts";
import { Secret } from "../core/secret.ts";
import { applySettingsPatch, changedFields, DEFAULT_SETTINGS, needsRebuild, type AppSettings, type SettingsPatch } from "../core/settings.ts";
import type { BuildRunner, JobOutcome, ReleaseMeta } from "./build-runner.ts";
import type { PreviewInfo } from "../core/hooks.ts";
import type { JobQueue, JobSpec } from "./queue.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";

export interface CreateOptions {
  name?: string;
  /** Makes the deployment a preview of another (src/previews). */
  preview?: PreviewInfo;
  env?: AppEnv;
  settings?: AppSettings;
  /** User-named Docker networks the app joins besides Kiln's isolated one. */
  networks?: string[];
  via?: ReleaseVia;
}

export interface GitDeployRequest extends CreateOptions {
  gitUrl: string;
  ref?: string;
  gitToken?: string;
}

/** What a change did: the release it made (when waited for), or that it is queued, or only saved. */
export type ChangeResult = { applied: "released"; release: Release } | { applied: "queued" } | { applied: "saved" };

export interface DeploymentServiceDeps {
  store: Store;
  queue: JobQueue;
  runner: BuildRunner;
  watcher: RuntimeWatcher;
  runtime: ContainerRuntime;
  routes: RouteTable;
  uploadsDir: string;
  /** Several Kilns: uploads kept where every Kiln reads them (a redeploy or takeover elsewhere builds them). */
  sharedUploads?: SharedUploads;
  /** Kiln's own isolated network (KILN_DOCKER_NETWORK): never a shared network an app may name. */
  ownNetwork: string;
  /** Throws a bad_request KilnError when the URL or ref is unsafe or unsupported. */
  validateGit: (url: string, ref?: string) => void;
  openLogs: (deploymentId: string) => Promise<void>;
  log: (deploymentId: string, text: string) => void;
  forgetLogs: (deploymentId: string) => Promise<void>;
  /** What else runs the app besides its containers (KILN_ENGINE=swarm: its service and network), removed on stop and delete. */
  removeApp?: (deploymentId: string) => Promise<void>;
}

const secretKey = {
  env: (id: string) => `deployment/${id}/env`,
  gitToken: (id: string) => `deployment/${id}/git-token`,
};

export class DeploymentService {
  /** Per deployment, the pushed commit whose build waits in the queue (redeployCommit); a newer push replaces it. */
  readonly #pendingCommits = new Map<string, { commit: string }>();

  constructor(private readonly d: DeploymentServiceDeps) {}

  async list(): Promise<Deployment[]> {
    return this.d.store.deployments.list();
  }

  /** By id or by name. */
  async get(idOrName: string): Promise<Deployment> {
    const found = (await this.d.store.deployments.get(idOrName)) ?? (await this.d.store.deployments.getByName(idOrName));
    if (!found) throw notFound(`no deployment ${JSON.stringify(idOrName.slice(0, 60))}`, "list them with GET /api/v1/deployments");
    return found;
  }

  async builds(idOrName: string): Promise<Build[]> {
    const d = await this.get(idOrName);
    return this.d.store.builds.listFor(d.id);
  }

  async currentBuild(d: Deployment): Promise<Build | null> {
    return d.currentBuildId ? this.d.store.builds.get(d.currentBuildId) : null;
  }

  async currentRelease(d: Deployment): Promise<Release | null> {
    return d.currentReleaseId ? this.d.store.releases.get(d.currentReleaseId) : null;
  }

  async createFromGit(req: GitDeployRequest): Promise<Deployment> {
    if (/^[a-z+]+:\/\/[^/@]*:[^/@]*@/i.test(req.gitUrl)) {
      throw badRequest("the git URL carries a password", "pass the token in gitToken instead; it is kept as a secret");
    }
    this.d.validateGit(req.gitUrl, req.ref);
    const source: SourceSpec = { kind: "git", url: req.gitUrl, ref: req.ref, hasToken: Boolean(req.gitToken) };
    return this.#create(req, source, async (id) => {
      if (req.gitToken) await this.d.store.secrets.put(secretKey.gitToken(id), req.gitToken);
    });
  }

  /** `file` is an upload already written to disk; it is moved into Kiln's uploads directory. */
  async createFromUpload(file: string, opts: CreateOptions = {}): Promise<Deployment> {
    const uploadId = newId();
    await mkdir(this.d.uploadsDir, { recursive: true });
    const dest = join(this.d.uploadsDir, `${uploadId}.tar`);
    try {
      await rename(file, dest);
      await this.d.sharedUploads?.put(uploadId, dest);
      return await this.#create(opts, { kind: "tarball", uploadId }, async () => {});
    } catch (err) {
      await rm(dest, { force: true });
      await this.d.sharedUploads?.delete(uploadId).catch(() => {});
      throw err;
    }
  }

  /** With `commit` (a push): build exactly that commit, coalesced with other pushes (redeployCommit). */
  async redeploy(idOrName: string, via: ReleaseVia = "api", opts: { commit?: string } = {}): Promise<Deployment> {
    const d = await this.get(idOrName);
    if (opts.commit !== undefined) return this.#redeployCommit(d, via, opts.commit);
    if (this.d.queue.busy(d.id)) throw conflict(`deployment ${d.name} has a build or a change in progress`, "wait for it to finish (GET the deployment, or follow its log), or stop the deployment first");
    // A running app keeps serving (and stays `running`) until the new build takes over; a
    // crash-looping one starts over (queued), its restarts left to the build.
    const updated = d.status === "running" ? d : await this.d.store.deployments.update(d.id, { status: "queued" }, "DeploymentService.redeploy");
    void this.#enqueueBuild(updated, { trigger: "redeploy", via, description: "redeploy" });
    return this.d.store.deployments.get(d.id) as Promise<Deployment>;
  }

  /**
   * Build exactly `commit` of a git deployment. Pushes in quick succession build the newest: while
   * a build of the deployment is queued or running, at most one more waits, and a newer push
   * replaces its commit (the skipped one is logged). Never refused for being busy.
   */
  async #redeployCommit(d: Deployment, via: ReleaseVia, commit: string): Promise<Deployment> {
    if (d.source.kind !== "git") throw badRequest(`deployment ${d.name} was deployed from a tarball`, "only a deployment from a git URL can build a given commit");
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) throw badRequest(`commit ${JSON.stringify(commit.slice(0, 80))} is not a full commit sha`, "give the full 40-character sha");
    const waiting = this.#pendingCommits.get(d.id);
    if (waiting) {
      if (waiting.commit !== commit) this.d.log(d.id, `commit ${waiting.commit.slice(0, 12)} will not be built: ${commit.slice(0, 12)} was pushed after it`);
      waiting.commit = commit;
      return d;
    }
    const pending = { commit };
    this.#pendingCommits.set(d.id, pending);
    // Like redeploy: a serving app stays `running` until the build takes over; a failed one starts over.
    const startOver = !this.d.queue.busy(d.id) && (d.status === "failed" || d.status === "crashlooping" || d.status === "stopped");
    const updated = startOver ? await this.d.store.deployments.update(d.id, { status: "queued" }, "DeploymentService.redeployCommit") : d;
    void this.#enqueueBuild(updated, { trigger: "redeploy", via, description: "push: commit" }, pending);
    return (await this.d.store.deployments.get(d.id)) ?? updated;
  }

  async stop(idOrName: string): Promise<Deployment> {
    const d = await this.get(idOrName);
    deploymentLifecycle.assert(d.status, "stopped", "DeploymentService.stop", d.id);
    await this.d.queue.cancel(d.id);
    // Builds cancelled while still waiting in the queue never ran: nobody else ends them.
    for (const b of await this.d.store.builds.listFor(d.id)) {
      if (b.status === "queued") await this.d.store.builds.update(b.id, { status: "cancelled", error: "cancelled", finishedAt: Date.now() }, "DeploymentService.stop");
    }
    this.d.watcher.unwatch(d.id);
    // Stopped before its containers go, so that their death is not taken for a crash to restart.
    const stopped = await this.d.store.deployments.update(d.id, { status: "stopped", instances: [] }, "DeploymentService.stop");
    await this.d.routes.remove(d.id);
    await this.#removeContainers(d.id);
    this.d.log(d.id, "stopped (volumes kept)");
    return stopped;
  }

  /** Everything the deployment made goes: jobs in flight, containers, route, images, logs, upload; volumes only when asked. */
  async remove(idOrName: string, opts: { volumes?: boolean } = {}): Promise<{ volumesKept: string[] }> {
    const d = await this.get(idOrName);
    // An app's previews (src/previews) go with it.
    for (const p of await this.d.store.deployments.list()) if (p.preview?.parentId === d.id) await this.remove(p.id, { volumes: true });
    await this.d.queue.cancel(d.id);
    this.d.watcher.unwatch(d.id);
    // Stopped first, so that its containers' death is not taken for a crash to restart.
    await this.d.store.deployments.update(d.id, { status: "stopped", instances: [] }, "DeploymentService.remove");
    await this.d.routes.remove(d.id);
    await this.#removeContainers(d.id);
    for (const img of await this.d.runtime.listImages({ [MANAGED]: "true", "kiln.deployment": d.id })) {
      await this.d.runtime.removeImage(img.id);
    }
    const volumes = await this.d.runtime.listVolumes({ [MANAGED]: "true", "kiln.deployment": d.id });
    if (opts.volumes) for (const v of volumes) await this.d.runtime.removeVolume(v.name);
    if (d.source.kind === "tarball") {
      await rm(join(this.d.uploadsDir, `${d.source.uploadId}.tar`), { force: true });
      await this.d.sharedUploads?.delete(d.source.uploadId);
    }
    await this.d.store.secrets.deletePrefix(`deployment/${d.id}/`);
    await this.d.forgetLogs(d.id);
    await this.d.store.deployments.delete(d.id);
    return { volumesKept: opts.volumes ? [] : volumes.map((v) => v.name) };
  }

  // ── env ──

  /** The app's env with its values, for Kiln's own use (a preview inherits it): never for an API answer. */
  async appEnv(idOrName: string): Promise<AppEnv> {
    return this.#env((await this.get(idOrName)).id);
  }

  /** The git access token of a private repository, for Kiln's own use (a preview clones with it), or null. */
  async gitToken(idOrName: string): Promise<string | null> {
    const d = await this.get(idOrName);
    return d.source.kind === "git" && d.source.hasToken ? this.d.store.secrets.get(secretKey.gitToken(d.id)) : null;
  }

  /** Keys and flags only: values never leave Kiln. */
  async env(idOrName: string): Promise<ReturnType<typeof describeEnv>> {
    const d = await this.get(idOrName);
    return describeEnv(await this.#env(d.id));
  }

  /** Replace all of the env (`replace`) or set and unset some variables; a new release applies it. */
  async changeEnv(idOrName: string, change: { replace: AppEnv } | { set: AppEnv; unset: string[] }, opts: { via?: ReleaseVia; wait?: boolean } = {}): Promise<ChangeResult> {
    const d = await this.get(idOrName);
    const before = await this.#env(d.id);
    let after: AppEnv;
    if ("replace" in change) after = change.replace;
    else {
      for (const k of change.unset) checkName(k, "unset");
      const clash = change.unset.find((k) => k in change.set);
      if (clash) throw badRequest(`${clash} is both set and unset`, "set it or unset it, not both");
      after = { ...before, ...change.set };
      for (const k of change.unset) delete after[k];
    }
    const description = `env: ${describeEnvChange(before, after)}`;
    await this.d.store.secrets.put(secretKey.env(d.id), encodeEnv(after));
    await this.d.store.deployments.update(d.id, { envKeys: Object.keys(after).sort() });
    this.d.log(d.id, `${description} (values not shown)`);
    if (description === "env: no change") return { applied: "saved" };
    return this.#apply(d, after, d.settings, { trigger: "env", via: opts.via ?? "api", description }, buildEnvChanged(before, after), opts.wait);
  }

  // ── settings ──

  async settings(idOrName: string): Promise<AppSettings> {
    return (await this.get(idOrName)).settings;
  }

  async changeSettings(idOrName: string, patch: SettingsPatch, opts: { via?: ReleaseVia; wait?: boolean } = {}): Promise<{ settings: AppSettings; result: ChangeResult }> {
    const d = await this.get(idOrName);
    const next = applySettingsPatch(d.settings, patch);
    const changed = changedFields(d.settings, next);
    if (changed.length === 0) return { settings: d.settings, result: { applied: "saved" } };
    const updated = await this.d.store.deployments.update(d.id, { settings: next });
    const description = `settings: ${changed.join(", ")}`;
    this.d.log(d.id, description);
    const result = await this.#apply(updated, await this.#env(d.id), next, { trigger: "settings", via: opts.via ?? "api", description }, needsRebuild(d.settings, next), opts.wait);
    return { settings: next, result };
  }

  // ── releases ──

  async releases(idOrName: string): Promise<{ deployment: Deployment; releases: Release[] }> {
    const d = await this.get(idOrName);
    return { deployment: d, releases: await this.d.store.releases.listFor(d.id) };
  }

  /**
   * Serve an earlier release's image with its env and settings again, without a build: the
   * deployment's env and settings become that release's, and the swap makes a new release.
   * Default: the release before the serving one.
   */
  async rollback(idOrName: string, number: number | undefined, opts: { via?: ReleaseVia; wait?: boolean } = {}): Promise<ChangeResult> {
    const d = await this.get(idOrName);
    if (d.status === "stopped") throw conflict(`deployment ${d.name} is stopped`, "redeploy it first, then roll back");
    const all = await this.d.store.releases.listFor(d.id);
    const current = all.find((r) => r.id === d.currentReleaseId);
    const target = number === undefined ? all.find((r) => current && r.number < current.number && r.image !== undefined && r.id !== current.id) : all.find((r) => r.number === number);
    if (!target) {
      throw number === undefined
        ? conflict(`deployment ${d.name} has no release before the serving one`, "list releases with GET …/releases")
        : notFound(`deployment ${d.name} has no release #${number}`, `kept releases: ${all.map((r) => `#${r.number}`).join(", ") || "none"}`);
    }
    if (!(await this.d.runtime.imageExists(target.image))) {
      throw conflict(`the image of release #${target.number} is gone`, "redeploy instead; images are kept for the releases Kiln keeps (KILN_KEEP_RELEASES)");
    }
    const build = await this.d.store.builds.get(target.buildId);
    const env = decodeEnv(await this.d.store.secrets.get(releaseEnvKey(d.id, target.id)));
    await this.d.store.secrets.put(secretKey.env(d.id), encodeEnv(env));
    const updated = await this.d.store.deployments.update(d.id, { settings: target.settings, envKeys: Object.keys(env).sort() });
    const meta: ReleaseMeta = { trigger: "rollback", via: opts.via ?? "api", rollbackOf: target.number, description: `rollback to release #${target.number}` };
    this.d.log(d.id, meta.description);
    const image = { ...(build ?? syntheticBuild(target)), image: target.image, port: target.buildPort };
    return this.#enqueueSwap(updated, meta, opts.wait, async () => ({ build: image, env, settings: target.settings }));
  }

  /** The app's environment (values as secrets) and settings of the serving release, for a container made again. */
  async servingRelease(deploymentId: string): Promise<{ release: Release; env: Record<string, Secret> } | null> {
    const d = await this.d.store.deployments.get(deploymentId);
    const release = d?.currentReleaseId ? await this.d.store.releases.get(d.currentReleaseId) : null;
    if (!release) return null;
    const env = decodeEnv(await this.d.store.secrets.get(releaseEnvKey(deploymentId, release.id)));
    return { release, env: runtimeEnv(env) };
  }

  /** Apply saved env and settings: a build, a swap, or nothing yet (stopped, never deployed). */
  async #apply(d: Deployment, env: AppEnv, settings: AppSettings, meta: ReleaseMeta, rebuild: boolean, wait?: boolean): Promise<ChangeResult> {
    const serving = await this.currentRelease(d);
    // Stopped, or never served: the change waits for the next deploy (a first build still queued reads it).
    if (d.status === "stopped" || !serving) return { applied: "saved" };
    if (rebuild) {
      const ready = d.status === "running" ? d : await this.d.store.deployments.update(d.id, { status: "queued" }, "DeploymentService.apply");
      const done = this.#enqueueBuild(ready, meta);
      return wait ? outcomeOf(await done) : { applied: "queued" };
    }
    return this.#enqueueSwap(d, meta, wait, async () => {
      // At run time, not now: a build ahead in the queue may have changed what serves.
      const now = await this.d.store.deployments.get(d.id);
      const release = now ? await this.currentRelease(now) : null;
      if (!now || !release) return null;
      const build = await this.d.store.builds.get(release.buildId);
      return { build: { ...(build ?? syntheticBuild(release)), image: release.image, port: release.buildPort }, env: await this.#env(d.id), settings: now.settings };
    });
  }

  async #enqueueSwap(
    d: Deployment,
    meta: ReleaseMeta,
    wait: boolean | undefined,
    resolve: () => Promise<{ build: Build & { image: string }; env: AppEnv; settings: AppSettings } | null>,
  ): Promise<ChangeResult> {
    let outcome: JobOutcome = { ok: false, cancelled: true, reason: "cancelled" };
    const done = this.d.queue.push({
      deploymentId: d.id,
      light: true,
      spec: { kind: "swap", description: meta.description },
      run: async (signal) => {
        const what = await resolve();
        const now = await this.d.store.deployments.get(d.id);
        if (!what || !now || now.status === "stopped") {
          outcome = { ok: false, cancelled: true, reason: "nothing serves to change (stopped meanwhile?): the change is saved for the next deploy" };
          return;
        }
        outcome = await this.d.runner.swap({ deployment: now, ...what, meta, signal });
      },
    });
    if (!wait) return { applied: "queued" };
    await done;
    return outcomeOf(outcome);
  }

  async #create(opts: CreateOptions, source: SourceSpec, saveSecrets: (id: string) => Promise<void>): Promise<Deployment> {
    const finalName = opts.name === undefined ? generateDeploymentName() : validateDeploymentName(opts.name);
    const networks = opts.networks ?? [];
    if (networks.includes(this.d.ownNetwork)) {
      throw badRequest(
        `networks: ${this.d.ownNetwork} is Kiln's own network, where containers are kept apart`,
        "name a network of your own (e.g. shared-db) for the apps that must talk to each other",
      );
    }
    if (await this.d.store.deployments.getByName(finalName)) {
      throw conflict(`the name ${finalName} is taken`, "choose another name, or redeploy the existing deployment");
    }
    const env = opts.env ?? {};
    const now = Date.now();
    const deployment: Deployment = {
      id: newId(),
      name: finalName,
      source,
      envKeys: Object.keys(env).sort(),
      networks: [...networks],
      settings: opts.settings ?? { ...DEFAULT_SETTINGS },
      status: "queued",
      currentBuildId: null,
      currentReleaseId: null,
      failureReason: null,
      instances: [],
      preview: opts.preview ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await this.d.store.deployments.insert(deployment);
    await this.d.openLogs(deployment.id);
    await this.d.store.secrets.put(secretKey.env(deployment.id), encodeEnv(env));
    await saveSecrets(deployment.id);
    void this.#enqueueBuild(deployment, { trigger: "deploy", via: opts.via ?? "api", description: "first deploy" });
    return (await this.d.store.deployments.get(deployment.id))!;
  }

  /** Queue a build (of `pending.commit` as it is when the build starts); resolves with its outcome when it has run. */
  async #enqueueBuild(d: Deployment, meta: ReleaseMeta, pending?: { commit: string }): Promise<JobOutcome> {
    const number = await this.d.store.builds.nextNumber(d.id);
    const build: Build = {
      id: newId(),
      deploymentId: d.id,
      number,
      status: "queued",
      builder: null,
      image: null,
      port: null,
      plan: null,
      commit: null,
      steps: [],
      error: null,
      createdAt: Date.now(),
      finishedAt: null,
    };
    await this.d.store.builds.insert(build);
    await this.d.store.deployments.update(d.id, { currentBuildId: build.id });
    this.d.log(d.id, `build #${number} queued`);
    const source = await this.#fetchRequest(d);
    let outcome: JobOutcome = { ok: false, cancelled: true, reason: "cancelled" };
    await this.d.queue.push({
      deploymentId: d.id,
      spec: { kind: "build", buildId: build.id, meta, ...(pending ? { commit: pending.commit } : {}) },
      run: async (signal) => {
        // Env and settings as they are when the build starts (a change queued behind it is its own release).
        // From here on a newer push waits for a build of its own.
        if (pending && this.#pendingCommits.get(d.id) === pending) this.#pendingCommits.delete(d.id);
        const now = (await this.d.store.deployments.get(d.id)) ?? d;
        await this.#uploadHere(now);
        const what = pending && source.kind === "git"
          ? { source: { ...source, commit: pending.commit }, meta: { ...meta, description: `${meta.description} ${pending.commit.slice(0, 12)}` } }
          : { source, meta };
        outcome = await this.d.runner.run({ deployment: now, build, ...what, env: await this.#env(d.id), settings: now.settings, signal });
      },
    });
    // Cancelled before it ran (stop, delete): the next push starts afresh.
    if (pending && this.#pendingCommits.get(d.id) === pending) this.#pendingCommits.delete(d.id);
    return outcome;
  }

  /**
   * Runs a job another Kiln started and died with (src/cluster/job-queue.ts takes it over): a build
   * starts again from the start — as a new build when the old one had begun, which is failed with
   * `why` — and a swap is not redone (its change is saved: the next deploy or change applies it).
   */
  async resume(deploymentId: string, spec: JobSpec, why: string, signal: AbortSignal): Promise<void> {
    const d = await this.d.store.deployments.get(deploymentId);
    if (!d) return;
    await this.d.openLogs(d.id); // made on another Kiln, maybe after this one started
    if (spec.kind === "swap") {
      this.d.log(d.id, `${spec.description} was not applied: ${why}; the change is saved for the next deploy or change`);
      return;
    }
    let build = await this.d.store.builds.get(spec.buildId);
    if (!build || d.status === "stopped") return;
    if (build.status === "succeeded" || build.status === "failed" || build.status === "cancelled") {
      // It ended, but the Kiln died before the deployment said so: not left building.
      const inFlight = d.currentBuildId === build.id && (d.status === "queued" || d.status === "building" || d.status === "deploying");
      if (inFlight) await this.abandon(d.id, spec, `${why}; build #${build.number} had ended (${build.status})`);
      return;
    }
    if (d.source.kind === "tarball" && !(await this.#upload(d.source.uploadId))) {
      return this.abandon(d.id, spec, `${why}; the upload it builds is on that Kiln's disk, not this one's: upload it again`);
    }
    if (build.status === "running") {
      await this.d.store.builds.update(build.id, { status: "failed", error: `interrupted: ${why}`, finishedAt: Date.now() }, "DeploymentService.resume");
      // What the interrupted build had started and nothing serves yet goes (the pipeline starts over).
      for (const c of await this.d.runtime.listContainers({ [MANAGED]: "true", "kiln.build": build.id })) {
        if (!d.instances.some((i) => i.containerId === c.id)) await this.d.runtime.removeContainer(c.id).catch(() => {});
      }
      // building/deploying → failed, so that the new build may start it again; a serving app stays running.
      const now = await this.d.store.deployments.get(d.id);
      if (now && now.status !== "running" && now.status !== "failed") await this.d.store.deployments.update(d.id, { status: "failed", failureReason: `interrupted: ${why}` }, "DeploymentService.resume");
      build = { ...build, id: newId(), number: await this.d.store.builds.nextNumber(d.id), status: "queued", steps: [], error: null, createdAt: Date.now(), finishedAt: null, builder: null, image: null, port: null, plan: null, commit: null };
      await this.d.store.builds.insert(build);
      await this.d.store.deployments.update(d.id, { currentBuildId: build.id });
      this.d.log(d.id, `build #${build.number} takes over from build #${build.number - 1}: ${why}`);
    } else {
      this.d.log(d.id, `build #${build.number} taken over: ${why}`);
    }
    const now = (await this.d.store.deployments.get(d.id)) ?? d;
    const source = await this.#fetchRequest(now);
    const what = spec.commit && source.kind === "git" ? { ...source, commit: spec.commit } : source;
    await this.d.runner.run({ deployment: now, build, source: what, meta: spec.meta, env: await this.#env(d.id), settings: now.settings, signal });
  }

  /** Ends a job that was taken over too often (its Kiln keeps dying): its build failed with `why`, the app told. */
  async abandon(deploymentId: string, spec: JobSpec, why: string): Promise<void> {
    const d = await this.d.store.deployments.get(deploymentId);
    if (!d) return;
    await this.d.openLogs(d.id);
    this.d.log(d.id, `${spec.kind === "build" ? "the build" : spec.description} was abandoned: ${why}`);
    if (spec.kind !== "build") return;
    const build = await this.d.store.builds.get(spec.buildId);
    if (build && (build.status === "queued" || build.status === "running")) {
      await this.d.store.builds.update(build.id, { status: "failed", error: `abandoned: ${why}`, finishedAt: Date.now() }, "DeploymentService.abandon");
    }
    if (d.status === "queued" || d.status === "building" || d.status === "deploying") {
      await this.d.store.deployments.update(d.id, { status: "failed", failureReason: `abandoned: ${why}` }, "DeploymentService.abandon");
    }
  }

  /**
   * The upload's path on this Kiln's disk, fetched from the shared copy when it is not here (it was
   * received by another Kiln); null when neither has it.
   */
  async #upload(uploadId: string): Promise<string | null> {
    const path = join(this.d.uploadsDir, `${uploadId}.tar`);
    if (await access(path).then(() => true, () => false)) return path;
    if (!this.d.sharedUploads) return null;
    await mkdir(this.d.uploadsDir, { recursive: true });
    return (await this.d.sharedUploads.fetchTo(uploadId, path)) ? path : null;
  }

  /** Before a build of an upload runs here: the upload on this Kiln's disk (a read that fails is said; the build then fails saying the tarball is missing). */
  async #uploadHere(d: Deployment): Promise<void> {
    if (d.source.kind !== "tarball") return;
    await this.#upload(d.source.uploadId).catch((err: unknown) => this.d.log(d.id, `the upload could not be read from the database: ${errorMessage(err)}`));
  }

  async #fetchRequest(d: Deployment): Promise<FetchRequest> {
    if (d.source.kind === "tarball") return { kind: "tarball", file: join(this.d.uploadsDir, `${d.source.uploadId}.tar`) };
    const token = d.source.hasToken ? await this.d.store.secrets.get(secretKey.gitToken(d.id)) : null;
    return { kind: "git", url: d.source.url, ref: d.source.ref, token: token ? new Secret(token) : undefined };
  }

  async #env(id: string): Promise<AppEnv> {
    return decodeEnv(await this.d.store.secrets.get(secretKey.env(id)));
  }

  async #removeContainers(deploymentId: string): Promise<void> {
    for (const c of await this.d.runtime.listContainers({ [MANAGED]: "true", "kiln.deployment": deploymentId })) {
      await this.d.runtime.removeContainer(c.id);
    }
    await this.d.removeApp?.(deploymentId);
  }
}

function outcomeOf(o: JobOutcome): ChangeResult {
  if (o.ok) return { applied: "released", release: o.release };
  throw new KilnError("conflict", `the change did not go live: ${o.reason}`, "the previous release still serves; fix the cause and try again");
}

/** A release whose build row is gone (kept image, forgotten build): enough of a build to run its image. */
function syntheticBuild(r: Release): Build {
  return { id: r.buildId, deploymentId: r.deploymentId, number: 0, status: "succeeded", builder: null, image: r.image, port: r.buildPort, plan: null, commit: null, steps: [], error: null, createdAt: r.createdAt, finishedAt: r.createdAt };
}

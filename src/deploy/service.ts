/**
 * What the API asks of deployments: create, list, redeploy, stop, delete. Owns the lifecycle
 * moves; the work itself runs in the build queue (BuildRunner), and keeping apps up in
 * reconcile/app-convergence.ts.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Build, Deployment, SourceSpec } from "../core/deployment.ts";
import { deploymentLifecycle } from "../core/deployment.ts";
import { badRequest, conflict, notFound } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { generateDeploymentName, validateDeploymentEnv, validateDeploymentName } from "../core/names.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { RouteTable } from "../core/ports/routes.ts";
import type { FetchRequest } from "../core/ports/source.ts";
import type { Store } from "../core/ports/store.ts";
import { Secret } from "../core/secret.ts";
import type { BuildRunner } from "./build-runner.ts";
import type { BuildQueue } from "./queue.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";
import { MANAGED } from "../core/labels.ts";

export interface GitDeployRequest {
  gitUrl: string;
  ref?: string;
  name?: string;
  env?: Record<string, string>;
  gitToken?: string;
  /** User-named Docker networks the app joins besides Kiln's isolated one. */
  networks?: string[];
}

export interface DeploymentServiceDeps {
  store: Store;
  queue: BuildQueue;
  runner: BuildRunner;
  watcher: RuntimeWatcher;
  runtime: ContainerRuntime;
  routes: RouteTable;
  uploadsDir: string;
  /** Kiln's own isolated network (KILN_DOCKER_NETWORK): never a shared network an app may name. */
  ownNetwork: string;
  /** Throws a bad_request KilnError when the URL or ref is unsafe or unsupported. */
  validateGit: (url: string, ref?: string) => void;
  openLogs: (deploymentId: string) => Promise<void>;
  log: (deploymentId: string, text: string) => void;
  forgetLogs: (deploymentId: string) => Promise<void>;
}

const secretKey = {
  env: (id: string) => `deployment/${id}/env`,
  gitToken: (id: string) => `deployment/${id}/git-token`,
};

export class DeploymentService {
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

  async createFromGit(req: GitDeployRequest): Promise<Deployment> {
    if (/^[a-z+]+:\/\/[^/@]*:[^/@]*@/i.test(req.gitUrl)) {
      throw badRequest("the git URL carries a password", "pass the token in gitToken instead; it is kept as a secret");
    }
    this.d.validateGit(req.gitUrl, req.ref);
    validateDeploymentEnv(req.env ?? {});
    const source: SourceSpec = { kind: "git", url: req.gitUrl, ref: req.ref, hasToken: Boolean(req.gitToken) };
    return this.#create(req.name, source, req.env ?? {}, req.networks ?? [], async (id) => {
      if (req.gitToken) await this.d.store.secrets.put(secretKey.gitToken(id), req.gitToken);
    });
  }

  /** `file` is an upload already written to disk; it is moved into Kiln's uploads directory. */
  async createFromUpload(name: string | undefined, file: string, env: Record<string, string> = {}, networks: string[] = []): Promise<Deployment> {
    validateDeploymentEnv(env);
    const uploadId = newId();
    await mkdir(this.d.uploadsDir, { recursive: true });
    const dest = join(this.d.uploadsDir, `${uploadId}.tar`);
    try {
      await rename(file, dest);
      return await this.#create(name, { kind: "tarball", uploadId }, env, networks, async () => {});
    } catch (err) {
      await rm(dest, { force: true });
      throw err;
    }
  }

  async redeploy(idOrName: string): Promise<Deployment> {
    const d = await this.get(idOrName);
    if (this.d.queue.busy(d.id)) throw conflict(`deployment ${d.name} has a build in progress`, "wait for it to finish, or stop the deployment first");
    // A running app keeps serving (and stays `running`) until the new build takes over; a
    // crash-looping one starts over (queued), its restarts left to the build.
    const updated = d.status === "running" ? d : await this.d.store.deployments.update(d.id, { status: "queued" }, "DeploymentService.redeploy");
    await this.#enqueue(updated);
    return this.d.store.deployments.get(d.id) as Promise<Deployment>;
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
    // Stopped before its container goes, so that its death is not taken for a crash to restart.
    const stopped = await this.d.store.deployments.update(d.id, { status: "stopped", containerId: null, upstream: null }, "DeploymentService.stop");
    await this.d.routes.remove(d.id);
    await this.#removeContainers(d.id);
    this.d.log(d.id, "stopped");
    return stopped;
  }

  /** Everything the deployment made goes: builds in flight, container, route, images, logs, upload. */
  async remove(idOrName: string): Promise<void> {
    const d = await this.get(idOrName);
    await this.d.queue.cancel(d.id);
    this.d.watcher.unwatch(d.id);
    // Stopped first, so that its container's death is not taken for a crash to restart.
    await this.d.store.deployments.update(d.id, { status: "stopped", containerId: null, upstream: null }, "DeploymentService.remove");
    await this.d.routes.remove(d.id);
    await this.#removeContainers(d.id);
    for (const img of await this.d.runtime.listImages({ [MANAGED]: "true", "kiln.deployment": d.id })) {
      await this.d.runtime.removeImage(img.id);
    }
    if (d.source.kind === "tarball") await rm(join(this.d.uploadsDir, `${d.source.uploadId}.tar`), { force: true });
    await this.d.store.secrets.deletePrefix(`deployment/${d.id}/`);
    await this.d.forgetLogs(d.id);
    await this.d.store.deployments.delete(d.id);
  }

  /** The app's environment (values as secrets), for a container made again from the current build. */
  envOf(deploymentId: string): Promise<Record<string, Secret>> {
    return this.#env(deploymentId);
  }

  async #create(
    name: string | undefined,
    source: SourceSpec,
    env: Record<string, string>,
    networks: string[],
    saveSecrets: (id: string) => Promise<void>,
  ): Promise<Deployment> {
    const finalName = name === undefined ? generateDeploymentName() : validateDeploymentName(name);
    if (networks.includes(this.d.ownNetwork)) {
      throw badRequest(
        `networks: ${this.d.ownNetwork} is Kiln's own network, where containers are kept apart`,
        "name a network of your own (e.g. shared-db) for the apps that must talk to each other",
      );
    }
    if (await this.d.store.deployments.getByName(finalName)) {
      throw conflict(`the name ${finalName} is taken`, "choose another name, or redeploy the existing deployment");
    }
    const now = Date.now();
    const deployment: Deployment = {
      id: newId(),
      name: finalName,
      source,
      envKeys: Object.keys(env).sort(),
      networks: [...networks],
      status: "queued",
      currentBuildId: null,
      failureReason: null,
      containerId: null,
      upstream: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.d.store.deployments.insert(deployment);
    await this.d.openLogs(deployment.id);
    await this.d.store.secrets.put(secretKey.env(deployment.id), JSON.stringify(env));
    await saveSecrets(deployment.id);
    await this.#enqueue(deployment);
    return (await this.d.store.deployments.get(deployment.id))!;
  }

  async #enqueue(d: Deployment): Promise<void> {
    const number = await this.d.store.builds.nextNumber(d.id);
    const build: Build = {
      id: newId(),
      deploymentId: d.id,
      number,
      status: "queued",
      builder: null,
      image: null,
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
    const env = await this.#env(d.id);
    void this.d.queue.push({
      deploymentId: d.id,
      run: (signal) => this.d.runner.run({ deployment: d, build, source, env, signal }),
    });
  }

  async #fetchRequest(d: Deployment): Promise<FetchRequest> {
    if (d.source.kind === "tarball") return { kind: "tarball", file: join(this.d.uploadsDir, `${d.source.uploadId}.tar`) };
    const token = d.source.hasToken ? await this.d.store.secrets.get(secretKey.gitToken(d.id)) : null;
    return { kind: "git", url: d.source.url, ref: d.source.ref, token: token ? new Secret(token) : undefined };
  }

  async #env(id: string): Promise<Record<string, Secret>> {
    const raw = await this.d.store.secrets.get(secretKey.env(id));
    const parsed = raw ? (JSON.parse(raw) as Record<string, string>) : {};
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, new Secret(v)]));
  }

  async #removeContainers(deploymentId: string): Promise<void> {
    for (const c of await this.d.runtime.listContainers({ [MANAGED]: "true", "kiln.deployment": deploymentId })) {
      await this.d.runtime.removeContainer(c.id);
    }
  }
}

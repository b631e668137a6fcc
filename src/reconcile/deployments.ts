/**
 * Compares what the store says with what Docker and Caddy really hold, and repairs the difference:
 * at boot (after a crash or restart) and on a timer. Kiln never leaves an orphan: a labelled
 * container or image that no deployment owns is removed; a route that is missing is put back.
 * Status writes go through the lifecycles like everyone's: one the table refuses (the deployment
 * moved since it was listed) is logged on the deployment and counted in `illegalMoves`, and the
 * pass goes on. Garbage collection (gc.ts decides: old build images, Railpack leftovers, stray
 * uploads and work dirs) runs after the boot pass and then every few minutes, not every pass.
 */
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { upstreamsOf, type Deployment } from "../core/deployment.ts";
import { routeFor } from "../deploy/rollout.ts";
import { isSwarmInstance } from "../deploy/swarm-rollout.ts";
import { IllegalMove } from "../core/lifecycle.ts";
import type { AppRoute, RouteTable } from "../core/ports/routes.ts";
import type { ContainerInfo, ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import { instanceAppFilter } from "../core/labels.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";
import type { SharedUploads } from "../core/ports/uploads.ts";
import { planGarbage, type DirEntry, type Removal } from "./gc.ts";

export interface ReconcilerDeps {
  store: Store;
  runtime: ContainerRuntime;
  routes: RouteTable;
  watcher: RuntimeWatcher;
  buildsDir: string;
  /** $KILN_DATA_DIR/uploads, where uploaded tarballs wait for their builds. */
  uploadsDir: string;
  /** Successful builds whose images each deployment keeps (KILN_KEEP_IMAGES). */
  keepImages: number;
  instanceId: string;
  /** Deployments with a build queued or running in this process, or a restart under way (left alone). */
  busy: (deploymentId: string) => boolean;
  /** Old containers a swap is draining (src/deploy/rollout.ts): theirs to remove, not ours. */
  draining?: (containerId: string) => boolean;
  /**
   * A running or crashlooping deployment and the containers as listed (its instances missing there
   * are gone): app-convergence.ts starts dead ones again. Without it, such a deployment is marked failed.
   */
  converge?: (d: Deployment, listed: ReadonlyMap<string, ContainerInfo>) => void;
  log: (deploymentId: string, text: string) => void;
  /** Kiln's own log (every garbage collection removal, and what it could not remove). */
  say: (line: string) => void;
  /**
   * Several Kilns share the store (src/cluster/): builds in flight belong to the shared job queue
   * (a dead Kiln's are taken over there), so boot neither fails them nor empties the builds dir;
   * and each pass follows the running containers nobody follows yet (only the leader follows).
   */
  shared?: boolean;
  /** Several Kilns: the uploads kept in the database (those no deployment names go after an hour). */
  sharedUploads?: SharedUploads;
}

/** A shared upload no deployment names is kept this long (its deployment may be being created). */
const SHARED_UPLOAD_GRACE_MS = 60 * 60_000;

/** How often garbage is collected after boot. */
export const GC_INTERVAL_MS = 5 * 60_000;

export class Reconciler {
  /** Status writes the lifecycles refused (logged on the deployment, the pass went on). */
  illegalMoves = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #gcTimer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<void> | null = null;
  #gc: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: ReconcilerDeps) {}

  /** After a start: builds in flight died with the old process; adopt containers; re-apply routes. */
  async boot(): Promise<void> {
    const { store } = this.d;
    if (!this.d.shared) for (const dep of await store.deployments.list()) {
      for (const b of await store.builds.listFor(dep.id)) {
        if (b.status === "queued" || b.status === "running") {
          const failed = { status: "failed" as const, error: "interrupted: Kiln restarted during the build", finishedAt: Date.now() };
          await this.#tolerant(dep.id, () => store.builds.update(b.id, failed, "Reconciler.boot"));
        }
      }
    }
    if (!this.d.shared) await rm(this.d.buildsDir, { recursive: true, force: true });
    await this.pass({ boot: true, forceRoutes: true });
    // In the background: a crash may have left many images, and serving needn't wait for them.
    void this.collectGarbage().catch((err) => this.d.say(`gc: ${err instanceof Error ? err.message : String(err)}`));
  }

  start(intervalMs: number, gcIntervalMs = GC_INTERVAL_MS): void {
    this.#timer = setInterval(() => void this.pass({ boot: false, forceRoutes: false }).catch((err) => console.error("reconcile:", err)), intervalMs);
    this.#timer.unref?.();
    this.#gcTimer = setInterval(() => void this.collectGarbage().catch((err) => this.d.say(`gc: ${err instanceof Error ? err.message : String(err)}`)), gcIntervalMs);
    this.#gcTimer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#gcTimer) clearInterval(this.#gcTimer);
    this.#timer = this.#gcTimer = null;
  }

  /**
   * One garbage collection: what gc.ts plans, removed and logged (what and why). Calls run one
   * after another, each on a fresh look. Returns what was removed.
   */
  collectGarbage(): Promise<Removal[]> {
    const next = this.#gc.catch(() => {}).then(() => this.#collect(true));
    this.#gc = next;
    return next;
  }

  /**
   * Several Kilns: only this Kiln's own disk — uploads no deployment names, work dirs of ended builds
   * (builds run on every Kiln; images and the engine are the leader's collectGarbage's).
   */
  collectLocalGarbage(): Promise<Removal[]> {
    const next = this.#gc.catch(() => {}).then(() => this.#collect(false));
    this.#gc = next;
    return next;
  }

  async #collect(engine: boolean): Promise<Removal[]> {
    const { store, runtime } = this.d;
    // The engine and the disk before the store: whatever row explains an entry existed before it, so is seen.
    const [images, imagesInUse, uploads, workDirs] = await Promise.all([
      engine ? runtime.listAllImages() : [],
      engine ? runtime.imagesInUse() : new Set<string>(),
      dirEntries(this.d.uploadsDir),
      dirEntries(this.d.buildsDir),
    ]);
    const shared = engine && this.d.sharedUploads ? await this.d.sharedUploads.list() : [];
    const deployments = await store.deployments.list();
    const builds = (await Promise.all(deployments.map((d) => store.builds.listFor(d.id)))).flat();
    const releases = (await Promise.all(deployments.map((d) => store.releases.listFor(d.id)))).flat();
    const releaseBuilds = new Set(releases.map((r) => r.buildId));
    const plan = planGarbage({ instanceId: this.d.instanceId, keepImages: this.d.keepImages, releaseBuilds, deployments, builds, images, imagesInUse, uploads, workDirs, now: Date.now() });
    const removed: Removal[] = [];
    for (const r of plan) if (await this.#remove(r)) removed.push(r);
    const named = new Set(deployments.flatMap((d) => (d.source.kind === "tarball" ? [d.source.uploadId] : [])));
    for (const u of shared) {
      if (named.has(u.uploadId) || Date.now() - u.createdAt < SHARED_UPLOAD_GRACE_MS) continue;
      await this.d.sharedUploads!.delete(u.uploadId).then(
        () => this.d.say(`gc: removed shared upload ${u.uploadId} (no deployment names it)`),
        (err: unknown) => this.d.say(`gc: left shared upload ${u.uploadId}: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    return removed;
  }

  /** Removes one thing; never forces an image (the engine refuses one a container uses). */
  async #remove(r: Removal): Promise<boolean> {
    const what = r.kind === "image" ? `image ${r.refs.join(", ")}` : r.kind === "upload" ? `upload ${r.name}` : `build work dir ${r.name}`;
    try {
      if (r.kind === "image") for (const ref of r.refs) await this.d.runtime.removeImage(ref, { force: false });
      else await rm(join(r.kind === "upload" ? this.d.uploadsDir : this.d.buildsDir, r.name), { recursive: true, force: true });
    } catch (err) {
      this.d.say(`gc: left ${what} (${r.reason}): ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    this.d.say(`gc: removed ${what}: ${r.reason}`);
    if (r.kind === "image" && r.deploymentId) this.d.log(r.deploymentId, `gc: removed ${what}: ${r.reason}`);
    return true;
  }

  /** Several Kilns: the leader follows every running app container (from its resume point), whoever started it. */
  #followUnfollowed(deployments: readonly Deployment[], live: ReadonlyMap<string, ContainerInfo>): void {
    for (const d of deployments) {
      if (d.status !== "running" && d.status !== "crashlooping") continue;
      for (const i of d.instances) {
        if (followable(i, live) && !this.d.watcher.watching(d.id, i.containerId)) this.d.watcher.watch(d.id, i.containerId, 1);
      }
    }
  }

  /**
   * Several Kilns, one Caddy each: this Kiln's Caddy gets the routes the store says (any Kiln may
   * have changed them). Loads them when the set differs, upserts those whose upstreams moved.
   */
  async syncRoutes(): Promise<void> {
    const expected = await this.#expectedRoutes();
    const actual = new Set(await this.d.routes.list());
    const same = expected.length === actual.size && expected.every((r) => actual.has(r.deploymentId));
    const known = this.#synced;
    this.#synced = new Map(expected.map((r) => [r.deploymentId, r.upstreams.join(",")]));
    if (!same) return this.d.routes.load(expected);
    for (const r of expected) if (known.get(r.deploymentId) !== r.upstreams.join(",")) await this.d.routes.upsert(r);
  }

  #synced = new Map<string, string>();

  /** Re-apply every route (Caddy restarted and forgot them). */
  async reloadRoutes(): Promise<void> {
    await this.d.routes.load(await this.#expectedRoutes());
  }

  /** A pass that begins after the one in progress, if any (its view is fresh): the engine came back. */
  async passAfresh(opts: { boot: boolean; forceRoutes: boolean }): Promise<void> {
    await this.#running?.catch(() => {});
    return this.pass(opts);
  }

  /** One pass; concurrent calls share the pass in progress. */
  pass(opts: { boot: boolean; forceRoutes: boolean }): Promise<void> {
    this.#running ??= this.#pass(opts).finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(opts: { boot: boolean; forceRoutes: boolean }): Promise<void> {
    const { store, runtime } = this.d;
    const deployments = await store.deployments.list();
    const byId = new Map(deployments.map((d) => [d.id, d]));

    // Containers: adopt the current one of each deployment, remove the rest.
    const containers = await runtime.listContainers(instanceAppFilter(this.d.instanceId));
    const live = new Map(containers.map((c) => [c.id, c]));
    for (const c of containers) {
      const owner = byId.get(c.labels["kiln.deployment"] ?? "");
      const isCurrent = owner?.instances.some((i) => i.containerId === c.id);
      if (isCurrent || (owner && this.d.busy(owner.id)) || this.d.draining?.(c.id)) continue;
      if (this.d.shared && owner && mayBeDraining(owner)) continue; // another Kiln's swap may still drain it
      await runtime.removeContainer(c.id).catch(() => {});
    }

    for (const d of deployments) {
      if (this.d.busy(d.id)) continue;
      await this.#tolerant(d.id, () => this.#repair(d, live, opts.boot));
    }
    if (this.d.shared) this.#followUnfollowed(await store.deployments.list(), live);

    // (Images of deployments that no longer exist are garbage: collectGarbage removes them.)

    // Routes: exactly the running deployments'.
    const expected = await this.#expectedRoutes();
    const actual = new Set(await this.d.routes.list().catch(() => [] as string[]));
    const same = expected.length === actual.size && expected.every((r) => actual.has(r.deploymentId));
    if (opts.forceRoutes || !same) await this.d.routes.load(expected);
    else {
      // upstreams may have moved (container restarted on a new port): upsert is idempotent
      for (const r of expected) if (changedUpstreams(byId.get(r.deploymentId), r)) await this.d.routes.upsert(r);
    }
  }

  /**
   * A running (or crashlooping) deployment whose container is down or gone is started again
   * (converge). At boot, a deployment caught mid-build (its build died with the old process) is
   * running when its previous container still serves, failed otherwise. After boot a deployment in
   * flight but not busy is being enqueued right now: left alone.
   */
  async #repair(d: Deployment, live: ReadonlyMap<string, ContainerInfo>, boot: boolean): Promise<void> {
    const { store, runtime } = this.d;
    const where = boot ? "Reconciler.boot" : "Reconciler.pass";
    // The engine may have published a running container on a new port (it restarted).
    const moved = d.instances.map((i) => {
      const c = live.get(i.containerId);
      return c?.running && c.published && c.published !== i.upstream ? { ...i, upstream: c.published } : i;
    });
    const portsMoved = moved.some((m, k) => m !== d.instances[k]);
    if ((d.status === "running" || d.status === "crashlooping") && this.d.converge) {
      // From the last line stored (or, with none stored, the container's start): what it wrote while Kiln was down is kept.
      if (boot) for (const i of d.instances) if (followable(i, live)) this.d.watcher.watch(d.id, i.containerId, 1);
      if (portsMoved) d = await store.deployments.update(d.id, { status: d.status, instances: moved }, where);
      return this.d.converge(d, live);
    }
    if (d.status !== "running" && !(boot && (d.status === "queued" || d.status === "building" || d.status === "deploying"))) return;
    const up = d.instances.filter((i) => live.get(i.containerId)?.running);
    if (up.length === 0) {
      const c = d.instances.map((i) => live.get(i.containerId)).find(Boolean);
      if (d.status === "running" && c && !boot) return; // no convergence: left as it is
      const lastLines = c ? await runtime.tailLogs(c.id, 20).catch(() => []) : [];
      const reason = c
        ? `the app's container is not running (exit code ${c.exitCode})${lastLines.length ? `; last lines:\n${lastLines.join("\n")}` : ""}`
        : d.status === "running" ? "the app's container is gone" : "interrupted: Kiln restarted during the build";
      await store.deployments.update(d.id, { status: "failed", failureReason: reason }, where);
      this.d.log(d.id, `reconcile: ${reason.split("\n")[0]}`);
      return;
    }
    if (d.status !== "running") {
      const failureReason = "interrupted: Kiln restarted during the build (still serving the previous release)";
      await store.deployments.update(d.id, { status: "running", failureReason }, where);
    }
    if (portsMoved) await store.deployments.update(d.id, { instances: moved }, where);
    if (boot) for (const i of up) this.d.watcher.watch(d.id, i.containerId, 1);
  }

  /** Runs one repair; a move the lifecycle refuses is logged and counted, anything else thrown. */
  async #tolerant(deploymentId: string, repair: () => Promise<unknown>): Promise<void> {
    try {
      await repair();
    } catch (err) {
      if (!(err instanceof IllegalMove)) throw err;
      this.illegalMoves++;
      this.d.log(deploymentId, `reconcile: ${err.message}`);
    }
  }

  async #expectedRoutes(): Promise<AppRoute[]> {
    const out: AppRoute[] = [];
    for (const d of await this.d.store.deployments.list()) {
      if (d.status !== "stopped" && upstreamsOf(d).length) out.push(routeFor(d, d.instances, d.settings));
    }
    return out;
  }
}

/**
 * Several Kilns: a swap drains the old containers on the Kiln that made it, where this one cannot
 * see (Rollout.draining is in that process). An old container is left alone while its app changed
 * recently enough for a drain to be under way: drainTimeout, the SIGTERM grace and a margin.
 */
function mayBeDraining(d: Deployment, now = Date.now()): boolean {
  return now - d.updatedAt < (d.settings.drainTimeoutMs ?? 30_000) + 10_000 + 10_000;
}

function changedUpstreams(before: Deployment | undefined, now: AppRoute): boolean {
  return !!before && upstreamsOf(before).join(",") !== now.upstreams.join(",");
}

/** A directory's entries with their last write times; none when the directory does not exist. */
async function dirEntries(dir: string): Promise<DirEntry[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const out: DirEntry[] = [];
  for (const name of names) {
    const st = await lstat(join(dir, name)).catch(() => null); // gone meanwhile
    if (st) out.push({ name, isFile: st.isFile(), mtimeMs: st.mtimeMs });
  }
  return out;
}

/** A running container, or a Swarm service (its follow ends by itself when the service is gone). */
function followable(i: { containerId: string }, live: ReadonlyMap<string, ContainerInfo>): boolean {
  return isSwarmInstance(i) || !!live.get(i.containerId)?.running;
}

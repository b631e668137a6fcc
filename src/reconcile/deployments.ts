/**
 * Compares what the store says with what Docker and Caddy really hold, and repairs the difference:
 * at boot (after a crash or restart) and on a timer. Kiln never leaves an orphan: a labelled
 * container or image that no deployment owns is removed; a route that is missing is put back.
 * Status writes go through the lifecycles like everyone's: one the table refuses (the deployment
 * moved since it was listed) is logged on the deployment and counted in `illegalMoves`, and the
 * pass goes on.
 */
import { rm } from "node:fs/promises";
import type { Deployment } from "../core/deployment.ts";
import { IllegalMove } from "../core/lifecycle.ts";
import type { AppRoute, RouteTable } from "../core/ports/routes.ts";
import type { ContainerInfo, ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import { instanceAppFilter } from "../core/labels.ts";
import type { RuntimeWatcher } from "../containers/runtime-watch.ts";

export interface ReconcilerDeps {
  store: Store;
  runtime: ContainerRuntime;
  routes: RouteTable;
  watcher: RuntimeWatcher;
  buildsDir: string;
  instanceId: string;
  /** Deployments with a build queued or running in this process (left alone). */
  busy: (deploymentId: string) => boolean;
  log: (deploymentId: string, text: string) => void;
}

export class Reconciler {
  /** Status writes the lifecycles refused (logged on the deployment, the pass went on). */
  illegalMoves = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<void> | null = null;

  constructor(private readonly d: ReconcilerDeps) {}

  /** After a start: builds in flight died with the old process; adopt containers; re-apply routes. */
  async boot(): Promise<void> {
    const { store } = this.d;
    for (const dep of await store.deployments.list()) {
      for (const b of await store.builds.listFor(dep.id)) {
        if (b.status === "queued" || b.status === "running") {
          const failed = { status: "failed" as const, error: "interrupted: Kiln restarted during the build", finishedAt: Date.now() };
          await this.#tolerant(dep.id, () => store.builds.update(b.id, failed, "Reconciler.boot"));
        }
      }
    }
    await rm(this.d.buildsDir, { recursive: true, force: true });
    await this.pass({ boot: true, forceRoutes: true });
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.pass({ boot: false, forceRoutes: false }).catch((err) => console.error("reconcile:", err)), intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Re-apply every route (Caddy restarted and forgot them). */
  async reloadRoutes(): Promise<void> {
    await this.d.routes.load(await this.#expectedRoutes());
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
      const isCurrent = owner && owner.containerId === c.id;
      if (isCurrent || (owner && this.d.busy(owner.id))) continue;
      await runtime.removeContainer(c.id).catch(() => {});
    }

    for (const d of deployments) {
      if (this.d.busy(d.id)) continue;
      const c = d.containerId ? live.get(d.containerId) : undefined;
      await this.#tolerant(d.id, () => this.#repair(d, c, opts.boot));
    }

    // Images of deployments that no longer exist.
    for (const img of await runtime.listImages(instanceAppFilter(this.d.instanceId))) {
      if (!byId.has(img.labels["kiln.deployment"] ?? "")) await runtime.removeImage(img.id).catch(() => {});
    }

    // Routes: exactly the running deployments'.
    const expected = await this.#expectedRoutes();
    const actual = new Set(await this.d.routes.list().catch(() => [] as string[]));
    const same = expected.length === actual.size && expected.every((r) => actual.has(r.deploymentId));
    if (opts.forceRoutes || !same) await this.d.routes.load(expected);
    else {
      // upstreams may have moved (container restarted on a new port): upsert is idempotent
      for (const r of expected) if (changedUpstream(byId.get(r.deploymentId), r)) await this.d.routes.upsert(r);
    }
  }

  /**
   * A running deployment whose container is gone fails. At boot, a deployment caught mid-build (its
   * build died with the old process) is running when its previous container still serves, failed
   * otherwise. After boot a deployment in flight but not busy is being enqueued right now: left alone.
   */
  async #repair(d: Deployment, c: ContainerInfo | undefined, boot: boolean): Promise<void> {
    const { store, runtime } = this.d;
    const where = boot ? "Reconciler.boot" : "Reconciler.pass";
    if (d.status !== "running" && !(boot && (d.status === "queued" || d.status === "building" || d.status === "deploying"))) return;
    if (!c || !c.running) {
      if (d.status === "running" && c && !boot) return; // the watcher reports crashes
      const lastLines = c ? await runtime.tailLogs(c.id, 20).catch(() => []) : [];
      const reason = c
        ? `the app's container is not running (exit code ${c.exitCode})${lastLines.length ? `; last lines:\n${lastLines.join("\n")}` : ""}`
        : d.status === "running" ? "the app's container is gone" : "interrupted: Kiln restarted during the build";
      await store.deployments.update(d.id, { status: "failed", failureReason: reason }, where);
      this.d.log(d.id, `reconcile: ${reason.split("\n")[0]}`);
      return;
    }
    if (d.status !== "running") {
      const failureReason = "interrupted: Kiln restarted during the build (still serving the previous build)";
      await store.deployments.update(d.id, { status: "running", failureReason }, where);
    }
    if (c.published && c.published !== d.upstream) await store.deployments.update(d.id, { upstream: c.published }, where);
    if (boot) this.d.watcher.watch(d.id, c.id);
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
      if (d.status !== "stopped" && d.upstream) out.push({ deploymentId: d.id, name: d.name, upstream: d.upstream });
    }
    return out;
  }
}

function changedUpstream(before: Deployment | undefined, now: AppRoute): boolean {
  return !!before && before.upstream !== now.upstream;
}

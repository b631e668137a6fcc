/**
 * The tenant pools, started and stopped as one: workloads from the folder (live), members adopted
 * after a restart, pools refilled, idle tenants released, periodic syncs run, and — from the engine's
 * events — dead members removed or replaced for their tenants (member-health.ts).
 */
import type { EngineEvents } from "../core/ports/engine-events.ts";
import type { Store } from "../core/ports/store.ts";
import type { WorkloadSpec } from "../core/workload.ts";
import { adoptPoolMembers, convergePoolMembers, type AdoptDeps } from "../reconcile/pool-members.ts";
import { sweepIdle } from "./idle.ts";
import { MemberHealth } from "./member-health.ts";
import type { Members } from "./members.ts";
import type { Refiller } from "./refiller.ts";
import type { Tenants } from "./tenants.ts";
import type { WorkloadRegistry } from "./workload-registry.ts";

/** What the pools need of the workloads folder watcher (src/pools/workloads/watch.ts). */
export interface WorkloadSource {
  /** Loads the folder once (calling back with the workloads) and keeps watching it. */
  start(): Promise<unknown>;
  stop(): Promise<void> | void;
}

export interface PoolServiceDeps extends AdoptDeps {
  store: Store;
  registry: WorkloadRegistry;
  members: Members;
  refiller: Refiller;
  tenants: Tenants;
  source: WorkloadSource;
  prepareSlots: () => Promise<void>;
  /** Undo prepareSlots when nothing uses the slots (no pool member at all). */
  releaseSlots: () => Promise<unknown>;
  tickMs?: number;
  /** The engine's events (adapters/docker/engine-watcher.ts): dead members are removed or replaced. */
  events?: EngineEvents;
  /**
   * Several Kilns share the store (src/cluster/): start() only loads the workloads (claims work on
   * every Kiln); adoption, health, refills and the tick run between lead() and follow(), on the Kiln
   * its pools node elected (cluster/node-lock.ts), for that node's members.
   */
  shared?: boolean;
}

export class PoolService {
  /** Status writes the lifecycles refused in adoption and idle sweeps (logged, the loop went on). */
  illegalMoves = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #ticking = false;
  /** Set once adoption is done: warming before it would race adoption, which removes members it finds warming. */
  #adopted = false;
  readonly #periodic = new Map<string, number>();
  readonly health: MemberHealth;

  constructor(private readonly d: PoolServiceDeps) {
    this.health = new MemberHealth({
      store: d.store,
      members: d.members,
      refiller: d.refiller,
      replaceDead: (m, cause) => d.tenants.replaceDead(m, cause),
      converge: () =>
        convergePoolMembers({
          ...d,
          replaceDead: (m, cause, stillDead) => d.tenants.replaceDead(m, cause, stillDead),
          restoreMissing: (tenantId, workloadId, cause) => d.tenants.restoreMissing(tenantId, workloadId, cause),
        }),
      instanceId: d.instanceId,
      node: d.members.node,
      log: d.log,
    });
    // Subscribed now, handled after adoption (start): a death meanwhile is not missed.
    if (d.events && !d.shared) this.health.watch(d.events);
    if (d.shared) d.refiller.stop(); // until this Kiln leads
  }

  /** While the engine is away, claims from the pool are refused (Tenants asks this). */
  engineAway(): boolean {
    return this.health.engineAway();
  }

  async start(): Promise<void> {
    await this.d.prepareSlots();
    await this.d.source.start(); // fills the registry
    if (!this.d.shared) await this.#lead();
  }

  /** Several Kilns: this one now leads (adopt, then refill, sweep and replace dead members). */
  async lead(): Promise<void> {
    if (this.#adopted) return;
    if (this.d.events) this.health.watch(this.d.events);
    this.d.refiller.resume();
    await this.#lead();
  }

  /** Several Kilns: this one no longer leads. */
  follow(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#adopted = false;
    this.d.refiller.stop();
    this.health.stop();
  }

  async #lead(): Promise<void> {
    const { adopted, removed, illegalMoves } = await adoptPoolMembers(this.d);
    this.illegalMoves += illegalMoves;
    if (adopted || removed) this.d.log(`pools: adopted ${adopted} member(s), removed ${removed}`);
    this.#adopted = true;
    this.health.begin();
    this.d.refiller.kick();
    this.#timer = setInterval(() => void this.#tick(), this.d.tickMs ?? 1000);
    this.#timer.unref?.();
  }

  /** Apply a new set of workloads (from the watcher). */
  onWorkloads(workloads: WorkloadSpec[], errors: { file: string; message: string }[]): void {
    this.d.registry.set(workloads, errors);
    for (const e of errors) this.d.log(`workloads: ${e.message}`);
    if (this.#adopted) this.d.refiller.kick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.health.stop();
    await this.d.source.stop();
    this.d.refiller.stop();
    // Members (and their containers' slot mounts) outlive Kiln; with none, leave no mount behind.
    if ((await this.d.store.pools.listMembers()).length === 0) await this.d.releaseSlots().catch(() => {});
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = Date.now();
      this.illegalMoves += await sweepIdle(now, this.d);
      await this.d.tenants.periodic(now, this.#periodic);
      await this.d.tenants.restoreAllMissing(now);
      this.d.refiller.kick();
    } catch (err) {
      this.d.log(`pools: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#ticking = false;
    }
  }
}

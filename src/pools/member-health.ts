/**
 * Pool members that die are never handed out, and tenants whose container died get a new one.
 * Driven by the engine's events (core/ports/engine-events.ts), so the claim path asks Docker nothing:
 *
 * - a member's container dies (`die`, `oom`, `destroy`, or `health: unhealthy`) while `ready`: moved
 *   to `draining` in the handler's first store call (one conditional write), so `takeReady` can never
 *   return it afterwards; then its container and slot are removed and the refiller tops the pool up.
 *   While `warming`: Members.create is told (markDead) and fails instead of writing `ready`.
 * - while `claimed`: Tenants.replaceDead gives the tenant a fresh member with its state at the same URL.
 *   A ready member that died an instant before a claim took it (the event was still on its way)
 *   reaches the tenant, and is then replaced the same way.
 * - the engine `lost`: claims from the pool are refused (503) until it is `back` and a full pass
 *   (reconcile/pool-members.ts convergePoolMembers) has removed or replaced what no longer runs.
 *
 *   const health = new MemberHealth(deps);
 *   health.watch(events);      // in main: events are kept until begin()
 *   health.begin();            // after adoption (PoolService.start)
 */
import { IllegalMove } from "../core/lifecycle.ts";
import { INSTANCE, NODE } from "../core/labels.ts";
import type { PoolMember } from "../core/pool.ts";
import type { ContainerEvent, EngineEvent, EngineEvents } from "../core/ports/engine-events.ts";
import type { Store } from "../core/ports/store.ts";
import type { Members } from "./members.ts";
import type { Refiller } from "./refiller.ts";

export interface MemberHealthDeps {
  store: Store;
  members: Pick<Members, "destroy" | "markDead" | "forgetDead">;
  refiller: Pick<Refiller, "kick">;
  /** Tenants.replaceDead: a fresh member for the tenant that held `dead`. */
  replaceDead: (dead: PoolMember, cause: string) => Promise<PoolMember | null>;
  /** The full pass after the engine came back (convergePoolMembers). */
  converge: () => Promise<unknown>;
  instanceId: string;
  /** This Kiln's pools node: another node's members (same engine, other slots) are that node's to handle. */
  node?: string;
  log: (line: string) => void;
}

/** Why a container event means the member is gone; null when it does not. */
export function deathCause(e: ContainerEvent): string | null {
  switch (e.action) {
    case "die":
      return `died (exit ${e.exitCode ?? "unknown"})`;
    case "oom":
      return "ran out of memory";
    case "destroy":
      return "was removed";
    case "health":
      return e.health === "unhealthy" ? "turned unhealthy" : null;
    default:
      return null;
  }
}

export class MemberHealth {
  /** Dead members handled (ready removed, or claimed replaced), and moves the lifecycles refused. */
  handled = 0;
  illegalMoves = 0;
  #engineAway = false;
  #generation = 0;
  #buffer: EngineEvent[] | null = [];
  #off: (() => void) | null = null;
  /** Handlers in flight (tests and stop wait for them). */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(private readonly d: MemberHealthDeps) {}

  /** Subscribe; events are held until begin() (adoption first: it must not race the handlers). */
  watch(events: EngineEvents): void {
    this.#off = events.subscribe((e) => (this.#buffer ? this.#buffer.push(e) : this.handle(e)));
  }

  begin(): void {
    const held = this.#buffer ?? [];
    this.#buffer = null;
    for (const e of held) this.handle(e);
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
  }

  /** True from the engine's `lost` until the pass after `back` is done: claims from the pool wait. */
  engineAway(): boolean {
    return this.#engineAway;
  }

  /** Wait for the handlers started so far. */
  async settled(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  handle(e: EngineEvent): void {
    if (e.kind === "engine") return this.#engine(e.state);
    if (e.labels["kiln.kind"] !== "pool-member" || e.labels[INSTANCE] !== this.d.instanceId) return;
    if (this.d.node !== undefined && e.labels[NODE] !== undefined && e.labels[NODE] !== this.d.node) return;
    const memberId = e.labels["kiln.member"];
    const cause = deathCause(e);
    if (!memberId || !cause) return;
    // Synchronously: a warming member must not become ready now (Members.create checks this).
    this.d.members.markDead(memberId);
    this.#track(this.#onDeath(memberId, e.containerId, cause));
  }

  #engine(state: "lost" | "back"): void {
    const generation = ++this.#generation;
    if (state === "lost") {
      this.#engineAway = true;
      this.d.log("pools: the container engine went away: no member is handed out until it is back");
      return;
    }
    this.#track(
      this.d
        .converge()
        .catch((err) => this.d.log(`pools: the pass after the engine came back failed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          if (generation === this.#generation) this.#engineAway = false;
          this.d.refiller.kick();
        }),
    );
  }

  async #onDeath(memberId: string, containerId: string, cause: string): Promise<void> {
    try {
      // The first store call: one conditional write, ready → draining. takeReady can't return it now.
      if (await this.d.store.pools.drainIfReady(memberId)) {
        this.d.log(`pools: ready member ${memberId}'s container ${containerId.slice(0, 12)} ${cause}; removed`);
        await this.d.members.destroy(memberId);
        this.handled++;
        this.d.refiller.kick();
        return;
      }
      const m = await this.d.store.pools.getMember(memberId);
      if (m?.status !== "warming") this.d.members.forgetDead(memberId);
      if (!m || m.containerId !== containerId) return; // gone, or an event of a container it no longer has
      if (m.status === "claimed" || m.status === "releasing") {
        // Queued behind the tenant's claim or release; a no-op when the member is no longer its own.
        if (await this.d.replaceDead(m, `container ${containerId.slice(0, 12)} ${cause}`)) this.handled++;
      }
      // warming: Members.create fails and removes it; draining, destroyed: being removed already.
    } catch (err) {
      if (err instanceof IllegalMove) this.illegalMoves++;
      this.d.log(`pools: member ${memberId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #track(p: Promise<unknown>): void {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }
}

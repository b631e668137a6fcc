/**
 * Keeps each pool at min_size ready members, never above max_size, with bounded concurrency
 * across pools. Members of an older spec are drained once enough new ones are ready; members of a
 * removed workload are drained. Kicked after claims, releases and workload changes, and on a timer.
 * It counts and makes the members of its own pools node only (Members.node): min_size and max_size
 * hold per node.
 */
import { IllegalMove } from "../core/lifecycle.ts";
import type { Store } from "../core/ports/store.ts";
import type { WorkloadSpec } from "../core/workload.ts";
import type { Members } from "./members.ts";
import type { WorkloadRegistry } from "./workload-registry.ts";

export class Refiller {
  /** Warm-ups that ended on a status write the member lifecycle refused (logged, retried like any failure). */
  illegalMoves = 0;
  #inFlight = 0;
  /** Consecutive warm-up failures per workload: retries back off (1 s, 2 s, … 30 s). */
  #failures = new Map<string, number>();
  #pending = new Set<string>();
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly registry: WorkloadRegistry,
    private readonly members: Members,
    private readonly concurrency: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Claims defer refills this long: warming a member takes CPU the claims behind it need. */
  static readonly AFTER_CLAIM_MS = 250;
  /** …but never for longer than this in a row, so a steady stream of claims can't starve the pools. */
  static readonly MAX_DEFER_MS = 2000;
  #quietUntil = 0;
  #deferringSince = 0;

  /**
   * After a claim: refill once claims have been quiet for a moment. A burst of claims is served
   * from the ready members first (that is what min_size is for) instead of racing the warm-ups.
   */
  afterClaim(workloadId: string): void {
    const now = Date.now();
    if (now >= this.#quietUntil) this.#deferringSince = now;
    this.#quietUntil = now + Refiller.AFTER_CLAIM_MS;
    this.#pending.add(workloadId);
    setTimeout(() => this.kick(workloadId), Refiller.AFTER_CLAIM_MS + 10).unref?.();
  }

  /** Look at one workload (or all) soon. */
  kick(workloadId?: string): void {
    if (this.#stopped) return;
    const now = Date.now();
    // Claims are going on: afterClaim's timer comes back (unless they have deferred refills too long).
    if (now < this.#quietUntil && now - this.#deferringSince < Refiller.MAX_DEFER_MS) return;
    for (const w of workloadId ? [workloadId] : this.registry.all().map((x) => x.id)) this.#pending.add(w);
    queueMicrotask(() => void this.#drainPending());
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Kicks count again after stop() (several Kilns: one Kiln per pools node refills that node's pools, src/pools/pool-service.ts). */
  resume(): void {
    this.#stopped = false;
  }

  /**
   * Remove ready members whose workload is gone or whose spec changed (once replacements are
   * ready). When the pool is at max_size and no replacement can even start, one stale member is
   * drained to make room — otherwise a full pool (min_size = max_size) would never roll over.
   */
  async drainStale(): Promise<void> {
    const all = await this.store.pools.listMembers(undefined, this.members.node);
    const byWorkload = groupBy(all, (m) => m.workloadId);
    for (const [workloadId, members] of byWorkload) {
      const w = this.registry.find(workloadId);
      const current = w ? members.filter((m) => m.specHash === w.hash) : [];
      const readyCurrent = current.filter((m) => m.status === "ready").length;
      const warmingCurrent = current.filter((m) => m.status === "warming").length;
      let makeRoom = w && warmingCurrent === 0 && readyCurrent < w.pool.minSize && members.length >= w.pool.maxSize ? 1 : 0;
      for (const m of members) {
        if (m.status !== "ready") continue;
        const stale = !w || m.specHash !== w.hash;
        if (!stale) continue;
        if (!w || readyCurrent >= Math.min(w.pool.minSize, 1) || makeRoom-- > 0) {
          if (!(await this.store.pools.drainIfReady(m.id))) continue; // claimed meanwhile: it serves its tenant
          await this.members.destroy(m.id).catch((err) => this.log(`drain ${m.id}: ${String(err)}`));
          if (w) this.kick(w.id); // room for a member of the new spec
        }
      }
    }
  }

  async #drainPending(): Promise<void> {
    for (const workloadId of [...this.#pending]) {
      this.#pending.delete(workloadId);
      const w = this.registry.find(workloadId);
      if (w) await this.#fill(w);
    }
    await this.drainStale();
  }

  async #fill(w: WorkloadSpec): Promise<void> {
    const members = await this.store.pools.listMembers(w.id, this.members.node);
    const current = members.filter((m) => m.specHash === w.hash);
    const spare = current.filter((m) => m.status === "ready" || m.status === "warming").length;
    const total = members.length;
    let want = Math.min(w.pool.minSize - spare, w.pool.maxSize - total);
    while (want-- > 0 && this.#inFlight < this.concurrency && !this.#stopped) {
      this.#inFlight++;
      void this.members.create(w).then(
        () => {
          this.#inFlight--;
          this.#failures.delete(w.id);
          this.kick(); // a slot freed up: any pool may be waiting for it
        },
        (err) => {
          this.#inFlight--;
          if (err instanceof IllegalMove) this.illegalMoves++;
          const n = (this.#failures.get(w.id) ?? 0) + 1;
          this.#failures.set(w.id, n);
          this.log(`warming a ${w.id} member failed (${n} in a row): ${err instanceof Error ? err.message : String(err)}`);
          setTimeout(() => this.kick(w.id), Math.min(30_000, 1000 * 2 ** (n - 1))).unref?.();
        },
      );
    }
  }
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}

/**
 * The tenant path: claim, release, sync, status. A claim takes a ready member in one atomic
 * statement and binds the tenant's own state and secrets into it (no restart, no exec); a release
 * uploads the state first when the policy says so (writers paused for consistency), and destroys the
 * member — a member never serves a second tenant.
 *
 * Restore on claim (policy.on_claim): whenever the sink holds state for the tenant, it is downloaded
 * beside the state dir and renamed into place once complete — the remote wins over a local copy —
 * before a member is taken. A failure or sync.timeout refuses the claim (503) with the tenant's
 * directory as it was and no member taken. Every sync run is bounded by sync.timeout.
 */
import { conflict, errorMessage, KilnError, notFound, StepError, unavailable } from "../core/errors.ts";
import { IllegalMove } from "../core/lifecycle.ts";
import type { LogSink } from "../core/logs.ts";
import type { ClaimSource, PoolMember, TenantClaim } from "../core/pool.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import type { StateSyncer } from "../core/ports/syncer.ts";
import type { SyncSpec, WorkloadSpec } from "../core/workload.ts";
import {
  type TenantDirs,
  type WorkloadOwner,
  chownTree,
  discardIncoming,
  ensureTenantDirs,
  parseUser,
  prepareIncoming,
  swapInIncoming,
  tenantDirs,
} from "../adapters/fs/tenant-dirs.ts";
import { validateTenantId } from "../core/names.ts";
import { KeyedLock } from "./keyed-lock.ts";
import type { TenantLock } from "../cluster/tenant-lock.ts";
import type { Members, Slots } from "./members.ts";
import type { Refiller } from "./refiller.ts";
import { tenantUrl, type PublicAddress } from "../core/urls.ts";
import type { WorkloadRegistry } from "./workload-registry.ts";

export interface ClaimResult {
  tenantId: string;
  workload: string;
  containerId: string;
  endpoint: { url: string; host: string; port: number } | null;
  source: ClaimSource;
  latencyMs: number;
}

export interface TenantDeps {
  store: Store;
  runtime: ContainerRuntime;
  slots: Slots;
  members: Members;
  refiller: Refiller;
  registry: WorkloadRegistry;
  syncer: StateSyncer;
  /** Where the tenants' directories are (KILN_POOLS_DIR). */
  dataDir: string;
  /**
   * Orders each tenant's claim, release and syncs. Default: in this process. Kilns sharing a pools
   * node also order them across processes (src/cluster/tenant-lock.ts).
   */
  lock?: TenantLock;
  urls: PublicAddress;
  /** The tenant's log stream (rclone progress, claims, releases). */
  logFor: (workloadId: string, tenantId: string) => Promise<LogSink>;
  /** True while the container engine is away (MemberHealth.engineAway): claims from the pool are refused. */
  engineAway?: () => boolean;
  /** Told of every claim answered: where its container came from and how long it took (metrics). */
  onClaimed?: (source: ClaimSource, latencyMs: number) => void;
}

/** Thrown when a pool is at max_size: the API answers 503 with Retry-After. */
export class PoolFullError extends KilnError {
  constructor(
    workload: string,
    readonly retryAfterSeconds: number,
  ) {
    super("unavailable", `the ${workload} pool is at its max_size; no container is free`, "retry later, or raise pool.max_size");
  }
}

/**
 * A release or sync of a member on another pools node: only a Kiln there can unbind its slots. The
 * API forwards the request to a live Kiln of `node` (http/forward.ts), else answers 409 with this.
 */
export class OtherNodeError extends KilnError {
  constructor(
    readonly node: string,
    message: string,
  ) {
    super("conflict", message, "send the request to a Kiln that shares that node's KILN_POOLS_DIR");
  }
}

/** Thrown while the engine is restarting: the API answers 503 with Retry-After. */
export class EngineAwayError extends KilnError {
  readonly retryAfterSeconds = 3;
  constructor() {
    super("unavailable", "the container engine is restarting, so no container can be handed out now", "retry in a few seconds");
  }
}

/** How often a standing claim without a container is given one again (restoreAllMissing). */
const RETRY_MISSING_MS = 5_000;

/** Tries at pausing a container for a consistent upload (see #pause). */
const PAUSE_ATTEMPTS = 5;
/** The caller named in a status write of a replacement the lifecycles refuse. */
const REPLACE = "Tenants.replaceDead";

export class Tenants {
  readonly #lock: TenantLock;
  /** The last time each (workload/tenant)'s container was replaced after it died, and why (status shows it). */
  readonly #replaced = new Map<string, { at: number; cause: string }>();
  /** When a standing claim was last left (or tried) without a container, by workload/tenant. */
  readonly #missingSince = new Map<string, number>();
  /** Periodic syncs that met a status write the lifecycles refused (logged on the tenant). */
  illegalMoves = 0;

  constructor(private readonly d: TenantDeps) {
    this.#lock = d.lock ?? new KeyedLock();
  }

  /**
   * Only a Kiln of the member's pools node can unbind its slots or read its tenant's state dir: a
   * release or sync of another node's member is refused, saying where to send it. A member from
   * before nodes were recorded ("") counts as this node's.
   */
  #assertLocal(m: PoolMember, what: string): void {
    if (!this.#isLocal(m)) {
      throw new OtherNodeError(m.node, `${what}: tenant ${m.tenantId}'s ${m.workloadId} container runs on pools node ${m.node}, whose slots and state this Kiln (pools node ${this.d.members.node}) cannot reach`);
    }
  }

  #isLocal(m: PoolMember): boolean {
    return !m.node || m.node === this.d.members.node;
  }

  async claim(tenantId: string, workloadId: string): Promise<ClaimResult> {
    validateTenantId(tenantId);
    const w = this.d.registry.get(workloadId);
    const t0 = performance.now();
    return this.#lock.run(`${w.id}/${tenantId}`, async () => {
      const existing = await this.d.store.pools.memberOfTenant(w.id, tenantId);
      if (existing) {
        if (existing.status === "releasing") throw conflict(`tenant ${tenantId} is being released from ${w.id}`, "wait for the release to finish, then claim again");
        await this.d.store.pools.updateMember(existing.id, { lastActiveAt: Date.now() }, "Tenants.claim");
        return this.#result(w, tenantId, existing, "existing", t0);
      }
      // While the engine is away (restarting), a ready member may be dead without Kiln knowing yet.
      if (this.d.engineAway?.()) throw new EngineAwayError();
      const dirs = tenantDirs(this.d.dataDir, w.id, tenantId);
      const owner = parseUser(w.user);
      await ensureTenantDirs(dirs, owner);
      const log = await this.d.logFor(w.id, tenantId);
      if (w.sync?.policy.onClaim) await this.#restore(w.id, w.sync, tenantId, dirs, owner, log);

      const provided = await this.#provide(w, tenantId, dirs).catch(async (err: unknown) => {
        // Another Kiln on the same database claimed for this tenant meanwhile (its unique claim refused
        // ours, nothing of ours was taken): the tenant's container is that one.
        const holder = await this.d.store.pools.memberOfTenant(w.id, tenantId).catch(() => null);
        if (holder && holder.status === "claimed") return { holder };
        throw err;
      });
      if ("holder" in provided) return this.#result(w, tenantId, provided.holder, "existing", t0);
      const { member, source } = provided;
      try {
        // This row is also the tenant's route: from here on the resolver points Caddy at the member.
        await this.#putTenant(tenantId, w.id, { memberId: member.id, status: "claimed", claimedAt: Date.now(), releasedAt: null }, "Tenants.claim");
      } catch (err) {
        await this.d.members.destroy(member.id).catch(() => {});
        throw err;
      }
      log("system", `claimed ${source === "cold" ? "a new" : "a warm"} ${w.id} container (${member.id})`);
      return this.#result(w, tenantId, member, source, t0);
    });
  }

  /** A member for the tenant (warm, else cold) with its state and secrets bound in. */
  async #provide(w: WorkloadSpec, tenantId: string, dirs: TenantDirs): Promise<{ member: PoolMember; source: ClaimSource }> {
    let member = await this.#takeReady(w, tenantId);
    let source: ClaimSource = "pool";
    if (!member) {
      source = "cold";
      member = await this.d.members.create(w, tenantId);
    }
    try {
      await this.d.slots.attach(member.id, { state: w.state ? dirs.state : undefined, secrets: w.secrets ? dirs.secrets : undefined });
    } catch (err) {
      await this.d.members.destroy(member.id).catch(() => {});
      throw err;
    } finally {
      this.d.refiller.afterClaim(w.id);
    }
    return { member, source };
  }

  /**
   * The container of the tenant's member died or was removed (`cause` says how): the tenant gets a
   * fresh member — warm, else cold — with its own state and secrets (they live on the host: nothing
   * is lost), and its row, which is its URL, points at it. Under the tenant's lock, so it never
   * interleaves with a claim or release; a member the tenant no longer holds (released, replaced
   * already) is left alone. `stillDead` re-checks the container under the lock (the full pass after
   * an engine restart; an event needs no check). The new member, or null when none was given.
   */
  async replaceDead(dead: PoolMember, cause: string, stillDead?: () => Promise<boolean>): Promise<PoolMember | null> {
    const tenantId = dead.tenantId;
    if (!tenantId) return null;
    return this.#lock.run(`${dead.workloadId}/${tenantId}`, async () => {
      const m = await this.d.store.pools.getMember(dead.id);
      const t = await this.d.store.pools.getTenant(tenantId, dead.workloadId);
      const held = m && (m.status === "claimed" || m.status === "releasing") && m.tenantId === tenantId && this.#isLocal(m);
      if (!held || !t || t.memberId !== m.id || t.status === "released") return null;
      if (stillDead && !(await stillDead())) return null;
      const t0 = performance.now();
      // Out of the tenant's hands first: the unique (workload, tenant) claim is free for the new member.
      await this.d.store.pools.updateMember(m.id, { status: "destroyed" }, REPLACE);
      const fresh = await this.#giveNew(t, cause, t0);
      await this.d.members.destroy(m.id).catch(async (err) => (await this.d.logFor(m.workloadId, tenantId))("system", `removing the dead container: ${errorMessage(err)}`));
      return fresh;
    });
  }

  /**
   * A tenant whose claim stands (claimed, release_failed) but whose member is gone — its replacement
   * failed while the engine was away: the same as replaceDead, from the pass after the engine is back.
   */
  async restoreMissing(tenantId: string, workloadId: string, cause: string): Promise<PoolMember | null> {
    return this.#lock.run(`${workloadId}/${tenantId}`, async () => {
      const t = await this.d.store.pools.getTenant(tenantId, workloadId);
      if (!t || t.status === "released" || t.status === "releasing" || (await this.d.store.pools.memberOfTenant(workloadId, tenantId))) return null;
      return this.#giveNew(t, cause, performance.now());
    });
  }

  /**
   * Standing claims without a container (a replacement that failed): each is given one again, at most
   * every RETRY_MISSING_MS, never while the engine is away. Called from the pools' tick.
   */
  async restoreAllMissing(now: number): Promise<number> {
    // Only the claims a failed replacement left without a container (#giveNew records them): no scan
    // of every tenant on each tick.
    if (this.#missingSince.size === 0 || this.d.engineAway?.()) return 0;
    let restored = 0;
    for (const [key, since] of [...this.#missingSince]) {
      if (now - since < RETRY_MISSING_MS) continue;
      const [workloadId, tenantId] = key.split("/") as [string, string];
      const t = await this.d.store.pools.getTenant(tenantId, workloadId);
      if (!t || t.memberId || (t.status !== "claimed" && t.status !== "release_failed")) {
        this.#missingSince.delete(key); // given one meanwhile, or released
        continue;
      }
      if (!this.d.registry.find(workloadId)) continue; // its workload is gone: the tenant may release
      this.#missingSince.set(key, now);
      if (await this.restoreMissing(tenantId, workloadId, "its container was lost")) restored++;
    }
    return restored;
  }


  /**
   * Under the tenant's lock, its old member out of the way: a new member, its row pointing at it (the
   * status kept). With none to be had the tenant keeps its claim without a container (its state stays
   * on disk) until restoreAllMissing or the pass after an engine restart gives it one.
   */
  async #giveNew(t: TenantClaim, cause: string, t0: number): Promise<PoolMember | null> {
    const { tenantId, workloadId } = t;
    const log = await this.d.logFor(workloadId, tenantId);
    let fresh: PoolMember | null = null;
    try {
      const w = this.d.registry.find(workloadId);
      if (!w) throw notFound(`workload ${workloadId} is gone`);
      const dirs = tenantDirs(this.d.dataDir, w.id, tenantId);
      await ensureTenantDirs(dirs, parseUser(w.user));
      fresh = (await this.#provide(w, tenantId, dirs)).member;
      await this.#putTenant(tenantId, w.id, { memberId: fresh.id }, REPLACE);
      this.#replaced.set(`${w.id}/${tenantId}`, { at: Date.now(), cause });
      this.#missingSince.delete(`${w.id}/${tenantId}`);
      log("system", `${cause}; replaced by member ${fresh.id} in ${Math.round(performance.now() - t0)} ms`);
      return fresh;
    } catch (err) {
      if (fresh) await this.d.members.destroy(fresh.id).catch(() => {});
      const why = errorMessage(err).split("\n")[0];
      // The claim stands, without a container, and its state stays on disk: never released for a
      // failed replacement (the engine may be stopping — its containers' deaths arrive before the event
      // stream breaks). restoreAllMissing tries again every few seconds, and the pass after the engine
      // is back at once.
      await this.#putTenant(tenantId, workloadId, { memberId: null }, REPLACE);
      this.#missingSince.set(`${workloadId}/${tenantId}`, Date.now());
      log("system", `${cause}; no new container could be started yet (${why}): Kiln tries again shortly; the state is kept`);
      return null;
    } finally {
      this.d.refiller.kick(workloadId);
    }
  }

  /**
   * A ready member, or null when a cold start may make one. At max_size, a member that is still
   * warming is waited for (it will be ready soon); with none warming the pool is full: 503.
   */
  async #takeReady(w: WorkloadSpec, tenantId: string): Promise<PoolMember | null> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = await this.d.store.pools.takeReady(w.id, w.hash, tenantId, Date.now(), this.d.members.node);
      if (m) return m;
      const members = await this.d.store.pools.listMembers(w.id, this.d.members.node);
      if (members.length < w.pool.maxSize) return null;
      const warming = members.some((x) => x.status === "warming" && x.specHash === w.hash);
      if (!warming || Date.now() > deadline) throw new PoolFullError(w.id, 2);
      await Bun.sleep(25);
    }
  }

  /** Release one workload's container (or all the tenant holds). `sync` overrides policy.on_release. */
  async release(tenantId: string, opts: { workload?: string; sync?: boolean } = {}): Promise<{ released: string[] }> {
    validateTenantId(tenantId);
    const held = opts.workload
      ? [opts.workload]
      : (await this.d.store.pools.listTenants(tenantId)).filter((t) => t.status === "claimed" || t.status === "release_failed").map((t) => t.workloadId);
    if (held.length === 0) throw notFound(`tenant ${tenantId} holds no container`, "claim one first");
    // Every container on this node, or nothing is released (the request goes to the node that has them).
    for (const workloadId of held) {
      const m = await this.d.store.pools.memberOfTenant(workloadId, tenantId);
      if (m) this.#assertLocal(m, "release");
    }
    const released: string[] = [];
    for (const workloadId of held) {
      await this.#lock.run(`${workloadId}/${tenantId}`, () => this.#releaseOne(tenantId, workloadId, opts.sync));
      released.push(workloadId);
    }
    return { released };
  }

  /** Manual sync (policy.manual). Upload pauses the container for a consistent copy. */
  async sync(tenantId: string, workloadId: string, direction: "upload" | "download" | "both"): Promise<void> {
    validateTenantId(tenantId);
    const w = this.d.registry.get(workloadId);
    if (!w.sync) throw conflict(`workload ${w.id} has no sync configured`);
    if (!w.sync.policy.manual) throw conflict(`workload ${w.id} does not allow manual sync`, "set sync.policy.manual: true");
    await this.#lock.run(`${w.id}/${tenantId}`, async () => {
      const m = await this.d.store.pools.memberOfTenant(w.id, tenantId);
      if (!m) throw notFound(`tenant ${tenantId} holds no ${w.id} container`, "claim one first");
      this.#assertLocal(m, "sync");
      const log = await this.d.logFor(w.id, tenantId);
      if (direction === "download" || direction === "both") await this.#sync(w, tenantId, "download", log, "Tenants.sync");
      if (direction === "upload" || direction === "both") await this.#pausedUpload(w, tenantId, m, log, "Tenants.sync");
      await this.d.store.pools.updateMember(m.id, { lastActiveAt: Date.now() }, "Tenants.sync");
    });
  }

  /** Upload the state of every claimed tenant whose periodic sync is due. */
  async periodic(now: number, lastRun: Map<string, number>): Promise<void> {
    for (const t of await this.d.store.pools.listTenants()) {
      if (t.status !== "claimed") continue;
      const w = this.d.registry.find(t.workloadId);
      const every = w?.sync?.policy.periodicMs;
      if (!w || !every) continue;
      const key = `${t.workloadId}/${t.tenantId}`;
      if (now - (lastRun.get(key) ?? t.claimedAt ?? now) < every) continue;
      lastRun.set(key, now);
      await this.#lock
        .run(key, async () => {
          const m = await this.d.store.pools.memberOfTenant(w.id, t.tenantId);
          if (m?.status === "claimed" && this.#isLocal(m)) await this.#sync(w, t.tenantId, "upload", await this.d.logFor(w.id, t.tenantId), "Tenants.periodic");
        })
        .catch(async (err) => {
          if (!(err instanceof IllegalMove)) return; // a failed sync: recorded in lastSync and the tenant's log
          this.illegalMoves++;
          (await this.d.logFor(w.id, t.tenantId))("system", `periodic sync: ${err.message}`);
        });
    }
  }

  async status(tenantId: string): Promise<TenantView[]> {
    validateTenantId(tenantId);
    const claims = await this.d.store.pools.listTenants(tenantId);
    if (claims.length === 0) throw notFound(`no tenant ${tenantId}`, "a tenant appears with its first claim");
    return Promise.all(claims.map((c) => this.#view(c)));
  }

  async list(): Promise<TenantView[]> {
    return Promise.all((await this.d.store.pools.listTenants()).map((c) => this.#view(c)));
  }

  async #releaseOne(tenantId: string, workloadId: string, syncOverride: boolean | undefined): Promise<void> {
    const m = await this.d.store.pools.memberOfTenant(workloadId, tenantId);
    if (!m) return this.#releaseWithoutMember(tenantId, workloadId);
    this.#assertLocal(m, "release");
    // Upload to the workload's current sink — where the next claim downloads from, and where a
    // fixed key takes effect for a retry; the member's own (older) spec only for a removed workload.
    const w = this.d.registry.find(workloadId) ?? this.d.registry.forMember(m);
    const log = await this.d.logFor(workloadId, tenantId);
    const where = "Tenants.release";
    await this.d.store.pools.updateMember(m.id, { status: "releasing" }, where);
    await this.#putTenant(tenantId, workloadId, { status: "releasing" }, where);
    const upload = (syncOverride ?? w?.sync?.policy.onRelease ?? false) && !!w?.sync;
    if (upload && w) {
      try {
        await this.#pausedUpload(w, tenantId, m, log, where);
      } catch (err) {
        await this.d.store.pools.updateMember(m.id, { status: "claimed" }, where);
        await this.#putTenant(tenantId, workloadId, { status: "release_failed" }, where);
        throw unavailable(
          `the state upload of tenant ${tenantId} failed, so nothing was released: ${errorMessage(err)}`,
          "the container and its state are kept; fix the sink and release again",
        );
      }
    }
    // Once the member is destroyed the resolver no longer answers for the tenant: it is unrouted.
    await this.d.members.destroy(m.id);
    await this.#putTenant(tenantId, workloadId, { memberId: null, status: "released", releasedAt: Date.now() }, where);
    log("system", `released ${workloadId} container ${m.id}`);
    this.d.refiller.kick(workloadId);
  }

  /** A claim whose container died while the engine was away (#giveNew): nothing to upload or remove. */
  async #releaseWithoutMember(tenantId: string, workloadId: string): Promise<void> {
    const t = await this.d.store.pools.getTenant(tenantId, workloadId);
    if (!t || t.status === "released") throw notFound(`tenant ${tenantId} holds no ${workloadId} container`);
    await this.#putTenant(tenantId, workloadId, { memberId: null, status: "released", releasedAt: Date.now() }, "Tenants.release");
    (await this.d.logFor(workloadId, tenantId))("system", `released ${workloadId} (its container had died; its state is kept on disk)`);
  }

  /** Freeze the container's processes while the final upload runs, so it is consistent. */
  async #pausedUpload(w: WorkloadSpec, tenantId: string, m: PoolMember, log: LogSink, where: string): Promise<void> {
    const id = m.containerId;
    if (id) await this.#pause(id);
    try {
      await this.#sync(w, tenantId, "upload", log, where);
    } finally {
      if (id) await this.d.runtime.unpauseContainer(id).catch(() => {});
    }
  }

  /**
   * runc's cgroup-v1 freezer sometimes gives up ("unable to freeze") when a process is starting in
   * the container at that moment — a healthcheck exec, say — and thaws it again: try a few times.
   */
  async #pause(containerId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.d.runtime.pauseContainer(containerId);
      } catch (err) {
        if (attempt >= PAUSE_ATTEMPTS) throw err;
        await Bun.sleep(50 * attempt);
      }
    }
  }

  /**
   * The download on claim, when the sink holds state for the tenant: into state.incoming (a copy of
   * state), renamed into place only once complete and given to the workload's user. The check and
   * the download share one sync.timeout. Any failure: state.incoming removed, state untouched, 503.
   */
  async #restore(workloadId: string, sync: SyncSpec, tenantId: string, dirs: TenantDirs, owner: WorkloadOwner | null, log: LogSink): Promise<void> {
    if (sync.mappings.every((m) => m.direction === "upload")) return;
    const signal = AbortSignal.timeout(sync.timeoutMs);
    let failure: unknown = null;
    try {
      if (!(await this.d.syncer.hasState({ spec: sync, tenantId, signal, log }))) {
        log("system", "sync: nothing stored for this tenant: nothing to restore");
        return;
      }
      const incoming = await prepareIncoming(dirs, owner);
      await this.d.syncer.run({ spec: sync, tenantId, stateDir: incoming, direction: "download", signal, log });
      if (owner) await chownTree(incoming, owner); // rclone writes as root; the workload's user owns its state
      await swapInIncoming(dirs);
    } catch (err) {
      failure = signal.aborted ? timedOut("download", sync) : err;
      await discardIncoming(dirs).catch(() => {});
    }
    await this.#recordSync(tenantId, workloadId, "download", failure, "Tenants.claim");
    if (failure) {
      throw unavailable(
        `the state of tenant ${tenantId} could not be restored from the sync sink, so nothing was changed: ${errorMessage(failure).split("\n")[0]}`,
        "retry the claim; if it keeps failing, check the sync sink (bucket, endpoint, keys) and that the S3 server answers",
      );
    }
  }

  /** One sync of the tenant's state dir in place (release, manual, periodic), bounded by sync.timeout. */
  async #sync(w: WorkloadSpec, tenantId: string, direction: "upload" | "download", log: LogSink, where: string): Promise<void> {
    if (!w.sync) return;
    const dirs = tenantDirs(this.d.dataDir, w.id, tenantId);
    const signal = AbortSignal.timeout(w.sync.timeoutMs);
    let failure: unknown = null;
    try {
      await this.d.syncer.run({ spec: w.sync, tenantId, stateDir: dirs.state, direction, signal, log });
    } catch (err) {
      failure = signal.aborted ? timedOut(direction, w.sync) : err;
    }
    await this.#recordSync(tenantId, w.id, direction, failure, where);
    if (failure) throw failure;
  }

  async #recordSync(tenantId: string, workloadId: string, direction: "upload" | "download", failure: unknown, where: string): Promise<void> {
    const error = failure ? errorMessage(failure).split("\n")[0]! : null;
    await this.#putTenant(tenantId, workloadId, { lastSync: { direction, ok: !failure, at: Date.now(), error } }, where);
  }

  /** Writes the tenant's row over its current one (a tenant without a row counts as released). */
  async #putTenant(tenantId: string, workloadId: string, patch: Partial<TenantClaim>, where: string): Promise<void> {
    const prev = await this.d.store.pools.getTenant(tenantId, workloadId);
    const base: TenantClaim = prev ?? { tenantId, workloadId, memberId: null, status: "released", lastSync: null, claimedAt: null, releasedAt: null, updatedAt: 0 };
    await this.d.store.pools.putTenant({ ...base, ...patch, tenantId, workloadId, updatedAt: Date.now() }, where);
  }

  #result(w: WorkloadSpec, tenantId: string, m: PoolMember, source: ClaimSource, t0: number): ClaimResult {
    const port = m.endpoint ? Number(m.endpoint.split(":").pop()) : null;
    const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
    this.d.onClaimed?.(source, latencyMs);
    return {
      tenantId,
      workload: w.id,
      containerId: m.containerId ?? "",
      endpoint: port ? { url: tenantUrl(this.d.urls, w.id, tenantId), host: "127.0.0.1", port } : null,
      source,
      latencyMs,
    };
  }

  async #view(c: TenantClaim): Promise<TenantView> {
    const m = c.memberId ? await this.d.store.pools.getMember(c.memberId) : null;
    return {
      tenantId: c.tenantId,
      workload: c.workloadId,
      status: c.status,
      containerId: m?.containerId ?? null,
      url: c.status === "released" ? null : tenantUrl(this.d.urls, c.workloadId, c.tenantId),
      lastSync: c.lastSync ? { ...c.lastSync, at: new Date(c.lastSync.at).toISOString() } : null,
      claimedAt: c.claimedAt ? new Date(c.claimedAt).toISOString() : null,
      releasedAt: c.releasedAt ? new Date(c.releasedAt).toISOString() : null,
      lastActiveAt: m?.lastActiveAt ? new Date(m.lastActiveAt).toISOString() : null,
      lastReplaced: this.#replacedView(c),
    };
  }

  #replacedView(c: TenantClaim): TenantView["lastReplaced"] {
    const r = this.#replaced.get(`${c.workloadId}/${c.tenantId}`);
    return r ? { at: new Date(r.at).toISOString(), cause: r.cause } : null;
  }
}

function timedOut(direction: "upload" | "download", sync: SyncSpec): StepError {
  return new StepError(
    `the state ${direction} did not finish within ${sync.timeoutMs / 1000} s (sync.timeout) and was stopped`,
    "check that the S3 server answers; raise sync.timeout for a large state",
  );
}

export interface TenantView {
  tenantId: string;
  workload: string;
  status: TenantClaim["status"];
  containerId: string | null;
  url: string | null;
  lastSync: { direction: "upload" | "download"; ok: boolean; at: string; error: string | null } | null;
  claimedAt: string | null;
  releasedAt: string | null;
  lastActiveAt: string | null;
  /** When this Kiln last gave the tenant a new container because its own died, and why (not kept across restarts). */
  lastReplaced: { at: string; cause: string } | null;
}

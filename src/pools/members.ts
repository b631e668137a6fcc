/**
 * Making and unmaking pool members: create + start the container with its slot mounts, wait until
 * its healthcheck passes (or, without one, until it runs), and destroy it with its slots.
 */
import { unavailable } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import type { PoolMember } from "../core/pool.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import type { WorkloadSpec } from "../core/workload.ts";
import { memberContainerSpec, type MemberDefaults } from "../containers/member-spec.ts";
import { NODE } from "../core/labels.ts";
import { NotReady, type NotReadyReason, waitUntilReady } from "../containers/readiness.ts";
import type { WorkloadRegistry } from "./workload-registry.ts";

/** What the members need of the slot mounts (src/adapters/mounts/slot-mounts.ts). */
export interface Slots {
  slotFor(memberId: string): Promise<{ state: string; secrets: string }>;
  attach(memberId: string, dirs: { state?: string; secrets?: string }): Promise<void>;
  detach(memberId: string): Promise<unknown>;
}

export interface MemberDeps {
  store: Store;
  runtime: ContainerRuntime;
  slots: Slots;
  registry: WorkloadRegistry;
  instanceId: string;
  /** The pools node this Kiln belongs to: the members it makes bind slots on this host (node-lock.ts). */
  node: string;
  defaults: MemberDefaults;
  /** Longest a member may take to become healthy. */
  readyTimeoutMs: number;
}

const READY_HINTS: Record<NotReadyReason, string | undefined> = {
  exited: "check the workload's command and image",
  unhealthy: "check the workload's healthcheck",
  timeout: undefined,
};

export class Members {
  /** Members whose container died while warming (engine events, pools/member-health.ts). */
  readonly #dead = new Set<string>();

  constructor(private readonly d: MemberDeps) {}

  /** This Kiln's pools node: it hands out, releases and keeps only members of this node. */
  get node(): string {
    return this.d.node;
  }

  /** The member's container died: a create still warming it fails instead of making it ready. */
  markDead(memberId: string): void {
    this.#dead.add(memberId);
  }

  forgetDead(memberId: string): void {
    this.#dead.delete(memberId);
  }

  /**
   * Create a member. With `tenantId` it is born claimed (a cold start) — no one else can take it.
   * Resolves when the container is ready; a member that fails is destroyed and the error thrown.
   */
  async create(w: WorkloadSpec, tenantId?: string): Promise<PoolMember> {
    const now = Date.now();
    const member: PoolMember = {
      id: newId(10),
      workloadId: w.id,
      node: this.d.node,
      specHash: w.hash,
      containerId: null,
      status: tenantId ? "claimed" : "warming",
      tenantId: tenantId ?? null,
      endpoint: null,
      createdAt: now,
      readyAt: null,
      claimedAt: tenantId ? now : null,
      lastActiveAt: tenantId ? now : null,
    };
    await this.d.store.pools.insertMember(member);
    let containerId: string | null = null;
    try {
      const image = await this.d.registry.image(w);
      const slot = await this.d.slots.slotFor(member.id);
      const made = memberContainerSpec(w, image, member.id, slot, this.d.instanceId, this.d.defaults);
      const spec = { ...made, labels: { ...made.labels, [NODE]: this.d.node } };
      containerId = await this.d.runtime.createContainer(spec);
      await this.d.store.pools.updateMember(member.id, { containerId });
      await this.d.runtime.startContainer(containerId);
      const endpoint = await this.#waitReady(w, containerId);
      const patch: Partial<PoolMember> = { containerId, endpoint, readyAt: Date.now() };
      if (!tenantId) patch.status = "ready";
      // No await between this check and the write: a death reported after it finds the member ready.
      if (this.#dead.has(member.id)) throw unavailable(`a ${w.id} container died as it became ready`, "check the workload's command and memory limit");
      return await this.d.store.pools.updateMember(member.id, patch, "Members.create");
    } catch (err) {
      await this.destroy(member.id).catch(() => {});
      // the row may be gone, or lack the id (it failed to record): never leave the container behind
      if (containerId) await this.d.runtime.removeContainer(containerId).catch(() => {});
      throw err;
    }
  }

  /** Remove the container, the slot mounts and the row. Idempotent. */
  async destroy(memberId: string): Promise<void> {
    const m = await this.d.store.pools.getMember(memberId);
    // The row goes even when the container cannot be removed now (the engine is away): a row left
    // behind would count as a member forever (a warming one holds the refiller back; a claimed one
    // looks like the tenant's). The container, labelled, is then removed by the next pass's orphan
    // sweep (convergePoolMembers after the engine is back, adoption at boot); the error is rethrown.
    let removeError: unknown = null;
    if (m?.containerId) await this.d.runtime.removeContainer(m.containerId).catch((err) => (removeError = err));
    await this.d.slots.detach(memberId);
    await this.d.store.pools.deleteMember(memberId);
    this.#dead.delete(memberId);
    if (removeError) throw removeError;
  }

  /** Wait until the member is healthy (or, without a healthcheck, running); its endpoint when it has a port. */
  async #waitReady(w: WorkloadSpec, containerId: string): Promise<string | null> {
    const probe = w.healthcheck ? ({ kind: "healthcheck" } as const) : ({ kind: "running" } as const);
    await waitUntilReady({ runtime: this.d.runtime, containerId, probe, timeoutMs: this.d.readyTimeoutMs, name: `a ${w.id} container` }).catch((err: unknown) => {
      throw err instanceof NotReady ? unavailable(err.message, READY_HINTS[err.reason]) : err;
    });
    if (!w.port) return null;
    return (await this.d.runtime.inspectContainer(containerId))?.published ?? null;
  }
}

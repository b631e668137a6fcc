/**
 * The tenant pools as one piece, assembled from what main.ts made (adapters stay main.ts's to
 * construct: the slot mounts, the syncer, the engine's events): the workload registry and its folder
 * watcher, the members, the refiller, the tenant path, and the PoolService that starts and leads
 * them. Several Kilns (`lock` given): mount roots are shared within the pools node, and a tenant's
 * work takes turns across Kilns.
 */
import type { LogSink } from "../core/logs.ts";
import type { ClaimSource } from "../core/pool.ts";
import type { EngineEvents } from "../core/ports/engine-events.ts";
import type { ContainerRuntime } from "../core/ports/runtime.ts";
import type { Store } from "../core/ports/store.ts";
import type { StateSyncer } from "../core/ports/syncer.ts";
import type { PublicAddress } from "../core/urls.ts";
import type { MemberDefaults } from "../containers/member-spec.ts";
import type { TenantLock } from "../cluster/tenant-lock.ts";
import type { SlotMounts } from "../adapters/mounts/slot-mounts.ts";
import { Members } from "./members.ts";
import { PoolService } from "./pool-service.ts";
import { Refiller } from "./refiller.ts";
import { Tenants } from "./tenants.ts";
import { WorkloadRegistry } from "./workload-registry.ts";
import { WorkloadWatcher } from "./workloads/watch.ts";

export interface PoolsParts {
  store: Store;
  runtime: ContainerRuntime;
  slots: SlotMounts;
  syncer: StateSyncer;
  events: EngineEvents;
  instanceId: string;
  /** This Kiln's pools node and its directory (cluster/node-lock.ts). */
  node: string;
  poolsDir: string;
  workloadsDir: string;
  /** What workload files may interpolate. */
  workloadEnv: Record<string, string>;
  defaults: MemberDefaults;
  readyTimeoutMs: number;
  concurrency: number;
  urls: PublicAddress;
  /** Several Kilns: one tenant's work at a time across them. */
  lock?: TenantLock;
  logFor: (workloadId: string, tenantId: string) => Promise<LogSink>;
  onClaimed: (source: ClaimSource, latencyMs: number) => void;
  say: (line: string) => void;
}

export interface Pools {
  registry: WorkloadRegistry;
  members: Members;
  refiller: Refiller;
  tenants: Tenants;
  service: PoolService;
}

export function assemblePools(p: PoolsParts): Pools {
  const registry = new WorkloadRegistry(p.store);
  const members = new Members({ store: p.store, runtime: p.runtime, slots: p.slots, registry, instanceId: p.instanceId, node: p.node, defaults: p.defaults, readyTimeoutMs: p.readyTimeoutMs });
  const refiller = new Refiller(p.store, registry, members, p.concurrency, (line) => p.say(`pools: ${line}`));
  let service: PoolService | null = null;
  const tenants = new Tenants({
    store: p.store,
    runtime: p.runtime,
    slots: p.slots,
    members,
    refiller,
    registry,
    syncer: p.syncer,
    dataDir: p.poolsDir,
    ...(p.lock ? { lock: p.lock } : {}),
    urls: p.urls,
    logFor: p.logFor,
    engineAway: () => service?.engineAway() ?? false,
    onClaimed: p.onClaimed,
  });
  const workloads: WorkloadWatcher = new WorkloadWatcher({
    dir: p.workloadsDir,
    env: p.workloadEnv,
    onChange: () => {
      const snap = workloads.current();
      service?.onWorkloads(snap.workloads, snap.errors.map((e) => ({ file: e.file, message: e.message })));
    },
  });
  service = new PoolService({
    store: p.store,
    runtime: p.runtime,
    slots: p.slots,
    members,
    refiller,
    tenants,
    registry,
    source: workloads,
    prepareSlots: () => p.slots.prepare(),
    releaseSlots: () => p.slots.release(),
    instanceId: p.instanceId,
    node: p.node,
    dataDir: p.poolsDir,
    log: p.say,
    // Dead members are taken out of the pool, claimed ones replaced for their tenants (member-health.ts).
    events: p.events,
    shared: p.lock !== undefined,
  });
  return { registry, members, refiller, tenants, service };
}

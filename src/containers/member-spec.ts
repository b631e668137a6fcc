/**
 * WorkloadSpec → the ContainerSpec of one pool member. Pure: the hardening every member gets is
 * here in one place — read-only root unless the workload says otherwise, pids/memory/CPU limits,
 * size-capped tmpfs for /tmp and /run, the workload's user, no restarts (a dead member is replaced,
 * not revived) — and the two slot mounts through which a tenant's state and secrets arrive at claim
 * time. (Dropped capabilities and no-new-privileges come with every container: see hardening.ts.)
 */
import { memberLabels } from "../core/labels.ts";
import type { ContainerSpec } from "../core/ports/runtime.ts";
import type { WorkloadSpec } from "../core/workload.ts";
import { limitsSpec, scratchTmpfs, type Limits } from "./hardening.ts";

/** What a workload doesn't set: the app limits, Kiln's network, the tmpfs size. */
export interface MemberDefaults extends Limits {
  network: string;
  tmpfsSize: string;
}

/** The member's slot directories on the host (src/adapters/mounts/slot-mounts.ts). */
export interface MemberSlot {
  state: string;
  secrets: string;
}

export function memberContainerSpec(
  w: WorkloadSpec,
  image: string,
  memberId: string,
  slot: MemberSlot,
  instanceId: string,
  d: MemberDefaults,
): ContainerSpec {
  const tmpfs = scratchTmpfs(d.tmpfsSize);
  const mounts: NonNullable<ContainerSpec["mounts"]> = [];
  if (w.state) mounts.push({ source: slot.state, target: w.state.target, readOnly: false, propagation: "rslave" });
  if (w.secrets) mounts.push({ source: slot.secrets, target: w.secrets.target, readOnly: true, propagation: "rslave" });
  return {
    name: `kiln-pool-${w.id}-${memberId}`,
    image,
    labels: memberLabels(instanceId, w.id, memberId, w.hash),
    env: { ...w.environment, ...(w.port ? { PORT: String(w.port) } : {}) },
    cmd: w.command ?? undefined,
    network: w.networkMode ?? d.network,
    publishPort: w.port ?? undefined,
    ...limitsSpec({ memoryBytes: w.limits.memoryBytes ?? d.memoryBytes, nanoCpus: w.limits.nanoCpus ?? d.nanoCpus, pids: d.pids }),
    restartPolicy: "no",
    readOnlyRootfs: w.readOnly,
    user: w.user ?? undefined,
    tmpfs: { "/tmp": tmpfs, "/run": tmpfs },
    mounts,
    healthcheck: w.healthcheck ?? undefined,
  };
}

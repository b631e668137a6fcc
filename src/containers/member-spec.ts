/**
 * WorkloadSpec → the ContainerSpec of one pool member. Pure: the hardening every member gets is
 * here in one place — read-only root unless the workload says otherwise, all capabilities dropped,
 * no-new-privileges, pids/memory/CPU limits, size-capped tmpfs for /tmp and /run, the workload's
 * user — and the two slot mounts through which a tenant's state and secrets arrive at claim time.
 */
import type { ContainerSpec, Labels } from "../core/ports/runtime.ts";
import type { WorkloadSpec } from "../core/workload.ts";
import { MANAGED, INSTANCE } from "../core/labels.ts";

export interface MemberDefaults {
  network: string;
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
  tmpfsSize: string;
}

export interface MemberSlot {
  state: string;
  secrets: string;
}

export function memberLabels(instanceId: string, w: WorkloadSpec, memberId: string): Labels {
  return {
    [MANAGED]: "true",
    [INSTANCE]: instanceId,
    "kiln.kind": "pool-member",
    "kiln.workload": w.id,
    "kiln.member": memberId,
    "kiln.spec-hash": w.hash,
  };
}

export function memberContainerSpec(
  w: WorkloadSpec,
  image: string,
  memberId: string,
  slot: MemberSlot,
  instanceId: string,
  d: MemberDefaults,
): ContainerSpec {
  const tmpfs = `rw,noexec,nosuid,nodev,size=${d.tmpfsSize}`;
  const mounts: NonNullable<ContainerSpec["mounts"]> = [];
  if (w.state) mounts.push({ source: slot.state, target: w.state.target, readOnly: false, propagation: "rslave" });
  if (w.secrets) mounts.push({ source: slot.secrets, target: w.secrets.target, readOnly: true, propagation: "rslave" });
  return {
    name: `kiln-pool-${w.id}-${memberId}`,
    image,
    labels: memberLabels(instanceId, w, memberId),
    env: { ...w.environment, ...(w.port ? { PORT: String(w.port) } : {}) },
    cmd: w.command ?? undefined,
    network: w.networkMode ?? d.network,
    publishPort: w.port ?? undefined,
    memoryBytes: w.limits.memoryBytes ?? d.memoryBytes,
    nanoCpus: w.limits.nanoCpus ?? d.nanoCpus,
    pidsLimit: d.pids,
    restartPolicy: "no",
    readOnlyRootfs: w.readOnly,
    user: w.user ?? undefined,
    tmpfs: { "/tmp": tmpfs, "/run": tmpfs },
    mounts,
    healthcheck: w.healthcheck ?? undefined,
  };
}

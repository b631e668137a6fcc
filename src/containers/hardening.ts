/**
 * The hardening defaults container specs share. Every Kiln container also gets, from the Docker
 * body builder (src/adapters/docker/create-body.ts): all capabilities dropped, no-new-privileges,
 * an init process, rotated logs, and its port published on 127.0.0.1 only.
 */
import type { ContainerSpec } from "../core/ports/runtime.ts";

/** Resource limits, as config.appLimits spells them. */
export interface Limits {
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
}

/** The limits every container runs under: memory, CPU, and a cap on processes (no fork bombs). */
export function limitsSpec(l: Limits): Pick<ContainerSpec, "memoryBytes" | "nanoCpus" | "pidsLimit"> {
  return { memoryBytes: l.memoryBytes, nanoCpus: l.nanoCpus, pidsLimit: l.pids };
}

/** A size-capped scratch tmpfs (for /tmp and /run on a read-only root): nothing executes from it. */
export function scratchTmpfs(size: string): string {
  return `rw,noexec,nosuid,nodev,size=${size}`;
}

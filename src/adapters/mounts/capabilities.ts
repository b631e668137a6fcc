/**
 * Does this process hold a capability? Read from /proc/self/status (CapEff), pure.
 * Bind mounts need CAP_SYS_ADMIN in the host's mount namespace: root, normally.
 */

export const CAP_SYS_ADMIN = 21;

/** The effective capability set from a /proc/<pid>/status text, or null when it has none. */
export function effectiveCapabilities(procStatus: string): bigint | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus);
  return m ? BigInt(`0x${m[1]}`) : null;
}

export function hasCapability(procStatus: string, cap: number): boolean {
  const caps = effectiveCapabilities(procStatus);
  return caps !== null && ((caps >> BigInt(cap)) & 1n) === 1n;
}

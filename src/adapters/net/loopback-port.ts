/**
 * A TCP port free on 127.0.0.1 right now (the kernel's pick), for publishing an app replica on a host
 * port it keeps across restarts. Another process may take it before the engine binds it: callers retry
 * with another when the engine says the port is taken (`isPortTaken`).
 */
export function freeLoopbackPort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** The engine's refusal of a host port someone else holds. */
export function isPortTaken(err: unknown): boolean {
  return /port is already allocated|address already in use/i.test(err instanceof Error ? err.message : String(err));
}

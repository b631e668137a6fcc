/**
 * A LeaderRuntimeWatcher whose follows are stand-ins: `swarm:` ids go to a delegated follow that
 * only records what it follows (until aborted) in `following`, so tests of who follows — the
 * leader gate, the relay between Kilns — need no engine.
 */
import type { MarkedSink } from "../../src/core/logs.ts";
import type { DelegatedFollow } from "../../src/containers/runtime-watch.ts";
import { LeaderRuntimeWatcher } from "../../src/cluster/leader-watcher.ts";

export function standInWatcher(following: Set<string>): LeaderRuntimeWatcher {
  const services: DelegatedFollow = {
    owns: (id) => id.startsWith("swarm:"),
    forget: () => {},
    follow: (id: string, _sink: MarkedSink, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        following.add(id);
        signal.addEventListener("abort", () => (following.delete(id), resolve()), { once: true });
      }),
  };
  const runtime = { inspectContainer: async () => null, followLogs: async () => {} };
  return new LeaderRuntimeWatcher(runtime, () => () => {}, () => {}, { sourceMarks: async () => ({ marks: [], keptSince: 0 }), forgetSource: async () => {} }, services);
}

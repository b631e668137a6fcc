/**
 * Several Kilns, one Caddy each: every few seconds each Kiln brings its own Caddy to what the store
 * says — the apps' domains (another Kiln may have attached or detached one: DomainRoutes.setHosts
 * re-applies the route) and the routes themselves (Reconciler.syncRoutes).
 *
 *   const stop = startRouteSync({ store, routes, reconciler, everyMs: 3000, say });
 */
import type { Store } from "../core/ports/store.ts";
import type { DomainRoutes } from "../domains/domain-routes.ts";
import type { Reconciler } from "../reconcile/deployments.ts";

export interface RouteSyncDeps {
  store: Pick<Store, "domains" | "deployments">;
  routes: Pick<DomainRoutes, "hostsOf" | "setHosts">;
  reconciler: Pick<Reconciler, "syncRoutes">;
  everyMs: number;
  say: (line: string) => void;
}

/** One sync: domains first (so the routes loaded next carry them), then routes. */
export async function syncRoutesOnce(d: Omit<RouteSyncDeps, "everyMs" | "say">): Promise<void> {
  const byDeployment = new Map<string, string[]>();
  for (const dom of await d.store.domains.all()) byDeployment.set(dom.deploymentId, [...(byDeployment.get(dom.deploymentId) ?? []), dom.host]);
  for (const dep of await d.store.deployments.list()) {
    const want = [...new Set(byDeployment.get(dep.id) ?? [])].sort();
    if (want.join(",") !== d.routes.hostsOf(dep.id).join(",")) await d.routes.setHosts(dep.id, want);
  }
  await d.reconciler.syncRoutes();
}

/** Syncs every `everyMs`, one at a time; returns the stop. */
export function startRouteSync(d: RouteSyncDeps): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    syncRoutesOnce(d)
      .catch((err: unknown) => d.say(`routes: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (running = false));
  }, d.everyMs);
  timer.unref?.();
  return () => clearInterval(timer);
}

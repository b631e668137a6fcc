/**
 * Pure: which deployment a request Caddy logged was for, by the same rules Caddy routes it
 * (adapters/caddy/route-json.ts appRoute): host `<name>.<publicHost>` or one of the app's own
 * domains, or path `/d/<id>` (and below) on the public host itself.
 *
 * Requests are grouped by an owner key when they arrive (`ownerKey`) and the keys resolved to
 * deployments once per sample (`resolveOwner`), so a request that came in before the sampler
 * learnt of a new app or domain still counts for it.
 */

/** What a sample resolves owner keys against: the public host and every app host. */
export interface OwnerTable {
  publicHost: string;
  /** Deployment ids that exist. */
  ids: ReadonlySet<string>;
  /** Lowercase host → deployment id: `<name>.<publicHost>` and the apps' own domains. */
  hosts: ReadonlyMap<string, string>;
}

const PATH_ID = /^\/d\/([A-Za-z0-9_-]{1,64})(?:[/?#]|$)/;

/** `p:<id>` for a `/d/<id>` path on the public host, else `h:<host>` (lowercase, no port). */
export function ownerKey(host: string, uri: string, publicHost: string): string {
  const h = hostOnly(host);
  if (h === publicHost.toLowerCase()) {
    const m = PATH_ID.exec(uri);
    if (m) return `p:${m[1]}`;
  }
  return `h:${h}`;
}

export function resolveOwner(key: string, table: OwnerTable): string | null {
  if (key.startsWith("p:")) {
    const id = key.slice(2);
    return table.ids.has(id) ? id : null;
  }
  return table.hosts.get(key.slice(2)) ?? null;
}

/** The host of a Host header, lowercase, without its port (`[::1]:8080` → `::1`). */
export function hostOnly(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") > 0 ? h.indexOf("]") : undefined);
  const colon = h.lastIndexOf(":");
  return colon > 0 && h.indexOf(":") === colon ? h.slice(0, colon) : h;
}

/** The table for these deployments and domains. */
export function ownerTable(publicHost: string, deployments: { id: string; name: string }[], domains: { host: string; deploymentId: string }[]): OwnerTable {
  const hosts = new Map<string, string>();
  for (const d of deployments) hosts.set(`${d.name}.${publicHost}`.toLowerCase(), d.id);
  for (const d of domains) hosts.set(d.host.toLowerCase(), d.deploymentId);
  return { publicHost, ids: new Set(deployments.map((d) => d.id)), hosts };
}

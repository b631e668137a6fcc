/**
 * The URLs Kiln hands out. With TLS on (KILN_TLS acme|internal) every public URL is https on the
 * HTTPS port; otherwise http on the public port. A port is left out when it is the scheme's default.
 * A claimed tenant's stable URL is <scheme>://<tenant>.<workload>.<publicHost>[:port]/ through Caddy:
 * one static route serves all of them, and TenantResolver says where each one goes.
 */
export interface PublicAddress {
  publicHost: string;
  publicPort: number;
  tls?: { mode: "acme" | "internal" | "off"; httpsPort: number };
}

/** `http://host:8080` or `https://host` (no trailing slash). */
export function publicOrigin(u: PublicAddress, host: string): string {
  const secure = u.tls !== undefined && u.tls.mode !== "off";
  const port = secure ? u.tls!.httpsPort : u.publicPort;
  const shown = (secure && port === 443) || (!secure && port === 80) ? "" : `:${port}`;
  return `${secure ? "https" : "http"}://${host}${shown}`;
}

export function tenantUrl(u: PublicAddress, workloadId: string, tenantId: string): string {
  return `${publicOrigin(u, `${tenantId}.${workloadId}.${u.publicHost}`)}/`;
}

/** The API's address as another process on this host reaches it (a wildcard listen as 127.0.0.1). */
export function localApiUrl(host: string, port: number | string): string {
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") && !reachable.startsWith("[") ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * The route table: the only way Kiln talks to Caddy. Implemented by
 * src/adapters/caddy/route-table.ts over Caddy's admin API.
 */
export interface AppRoute {
  deploymentId: string;
  /** One or more DNS labels: served at http://<name>.<publicHost>:<publicPort>/ (tenants: "<tenant>.<workload>"). */
  name: string;
  /**
   * Also served at http://<publicHost>:<publicPort>/d/<deploymentId>/ with the prefix stripped.
   * 1–32 host:port, always on loopback; requests go round robin, a failed one is skipped for a few seconds.
   */
  upstreams: string[];
  /** Active health check: an upstream that does not answer `path` with expectStatus (any 2xx by default) gets no traffic. */
  health?: { path: string; intervalMs: number; timeoutMs: number; expectStatus?: number };
  /** The app's own domains (lowercase DNS names), served like <name>.<publicHost>; never the /d/<id> path form. */
  hosts?: string[];
}

export interface RouteTable {
  /** Make Caddy's config Kiln's: the ingress server on publicPort with the 404 fallback, plus `routes`. */
  load(routes: AppRoute[]): Promise<void>;
  /** Add or replace one app's route without touching the others. */
  upsert(route: AppRoute): Promise<void>;
  remove(deploymentId: string): Promise<void>;
  /** Deployment ids that have a route in Caddy right now. */
  list(): Promise<string[]>;
  /** True when the admin API answers. */
  healthy(): Promise<boolean>;
  /**
   * Requests Caddy is proxying to these host:port addresses right now (summed). For draining an old
   * upstream after a swap: wait until 0, then stop it.
   */
  inFlight(upstreams: string[]): Promise<number>;
}

/** A certificate Caddy holds for a host. */
export interface CertificateInfo {
  /** The issuing CA's common name, e.g. "Caddy Local Authority - ECC Intermediate" or "R11". */
  issuer: string;
  /** Expiry, ms since the epoch. */
  notAfter: number;
}

/** Caddy's certificates: what its storage holds and what its log says went wrong. */
export interface TlsCertificates {
  /** The newest certificate for `host` in Caddy's storage (any issuer), or null. */
  certificate(host: string): Promise<CertificateInfo | null>;
  /** The last issuance error Caddy logged for `host` since `since` (ms), its raw text, or null. */
  lastError(host: string, since: number): Promise<string | null>;
  /** PEM of the internal CA's root certificate (Caddy's admin API). */
  rootPem(): Promise<string>;
}

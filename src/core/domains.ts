/**
 * A user's own domain attached to an app: Caddy routes it to the app and, with TLS on, gets it a
 * certificate on demand (only hosts in this table or Kiln's own names pass the `ask` check).
 */
export interface Domain {
  /** Lowercase DNS name, e.g. shop.example.com. */
  host: string;
  deploymentId: string;
  createdAt: number;
}

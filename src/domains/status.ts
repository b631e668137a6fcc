/**
 * A domain's certificate state in words a user can act on. Pure: the caller reads the certificate and
 * Caddy's last error for the host.
 */
import type { CertificateInfo } from "../core/ports/routes.ts";

export type DomainStatus = "http" | "pending" | "active" | "failed";

export interface DomainState {
  status: DomainStatus;
  detail: string;
  certificate: CertificateInfo | null;
}

export interface StatusInput {
  host: string;
  tls: "off" | "internal" | "acme";
  /** The domain's URL, as the user opens it. */
  url: string;
  certificate: CertificateInfo | null;
  /** Caddy's last issuance error for the host since it was attached (raw), or null. */
  error: string | null;
  now: number;
  /** Where Caddy's log is, for the details. */
  logPath: string;
}

export function domainState(i: StatusInput): DomainState {
  if (i.tls === "off") {
    return { status: "http", detail: `served over plain HTTP at ${i.url} (KILN_TLS=off); set KILN_TLS=acme (or internal) for HTTPS`, certificate: null };
  }
  const valid = i.certificate && i.certificate.notAfter > i.now ? i.certificate : null;
  if (valid) {
    return { status: "active", detail: `certificate from ${valid.issuer}, valid until ${new Date(valid.notAfter).toISOString()}; renewed automatically`, certificate: valid };
  }
  if (i.error) return { status: "failed", detail: explainFailure(i.error, i.host, i.logPath), certificate: null };
  const when = i.certificate ? "the certificate expired; a new one is issued" : "no certificate yet: it is issued";
  const dns = i.tls === "acme" ? `, once ${i.host}'s DNS points at this server` : "";
  return { status: "pending", detail: `${when} on demand at the first HTTPS request to ${i.url}${dns}`, certificate: null };
}

/** Caddy's error text → the cause and what to do, for the common ones; else the error itself. */
export function explainFailure(raw: string, host: string, logPath: string): string {
  const retry = `then open https://${host}/ again (Caddy retries on its own)`;
  if (/ratelimited|rate limit|too many (certificates|failed|requests|new orders)/i.test(raw)) {
    return `the CA's rate limit was hit for ${host}: wait before trying again (Let's Encrypt allows 5 failed validations per hour and 5 identical certificates per week); ${retry}`;
  }
  if (/urn:ietf:params:acme:error:(dns|unauthorized|connection|incorrectResponse|caa)|NXDOMAIN|no valid A records|DNS problem|SERVFAIL/i.test(raw)) {
    return `the CA could not verify that ${host} points here: set its DNS A/AAAA records to this server's public address and open ports 80 and 443 (check with \`dig ${host}\`); ${retry}. Caddy said: ${short(raw)}`;
  }
  if (/dial tcp|no such host|i\/o timeout|connection refused|TLS handshake timeout|deadline exceeded|fetching directory|network is unreachable/i.test(raw)) {
    return `Caddy could not reach the certificate authority: check this server's outbound HTTPS (proxy, firewall) and KILN_ACME_CA; ${retry}. Caddy said: ${short(raw)}`;
  }
  return `issuing a certificate for ${host} failed: ${short(raw)} (more in ${logPath})`;
}

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

/**
 * TlsCertificates over Caddy: certificates read from its file storage
 * (<XDG_DATA_HOME>/caddy/certificates/<issuer-dir>/<host>/<host>.crt, XDG_DATA_HOME being
 * <dataDir>/caddy/data as the supervisor sets it), issuance errors from the tail of its log, and the
 * internal CA's root from its admin API (GET /pki/ca/local).
 */
import { X509Certificate } from "node:crypto";
import { open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { notFound, unavailable } from "../../core/errors.ts";
import type { CertificateInfo, TlsCertificates } from "../../core/ports/routes.ts";
import { CaddyAdminClient } from "./admin-client.ts";
import { lastTlsError } from "./tls-log.ts";

/** How much of Caddy's log is read back for errors. */
export const LOG_TAIL_BYTES = 512 * 1024;

export interface CaddyCertificatesOptions {
  adminUrl: string;
  /** Kiln's data dir (Caddy's storage and log live under <dataDir>/caddy). */
  dataDir: string;
}

export class CaddyCertificates implements TlsCertificates {
  readonly #admin: CaddyAdminClient;
  readonly #certsDir: string;
  readonly #logPath: string;

  constructor(o: CaddyCertificatesOptions) {
    this.#admin = new CaddyAdminClient(o.adminUrl);
    this.#certsDir = join(o.dataDir, "caddy", "data", "caddy", "certificates");
    this.#logPath = join(o.dataDir, "caddy", "caddy.log");
  }

  get logPath(): string {
    return this.#logPath;
  }

  async certificate(host: string): Promise<CertificateInfo | null> {
    const issuers = await readdir(this.#certsDir).catch(() => [] as string[]);
    let best: CertificateInfo | null = null;
    for (const dir of issuers) {
      const pem = await readFile(join(this.#certsDir, dir, host, `${host}.crt`), "utf8").catch(() => null);
      const info = pem ? certificateInfo(pem) : null;
      if (info && (!best || info.notAfter > best.notAfter)) best = info;
    }
    return best;
  }

  async lastError(host: string, since: number): Promise<string | null> {
    return lastTlsError(await tail(this.#logPath, LOG_TAIL_BYTES), host, since);
  }

  async rootPem(): Promise<string> {
    const res = await this.#admin.get("/pki/ca/local", { allow: [404, 500] });
    const pem = (res.body as { root_certificate?: unknown } | null)?.root_certificate;
    if (res.status === 404) throw notFound("Caddy has no internal CA", "it exists while KILN_TLS=internal");
    if (typeof pem !== "string" || !pem.includes("BEGIN CERTIFICATE")) {
      throw unavailable("Caddy did not return its internal CA's root certificate", "see Caddy's log; restarting Kiln re-applies its config");
    }
    return pem;
  }
}

/** Issuer (its CN, else the whole subject) and expiry of the first certificate in a PEM bundle. */
export function certificateInfo(pem: string): CertificateInfo | null {
  try {
    const cert = new X509Certificate(pem);
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.issuer)?.[1];
    return { issuer: cn ?? cert.issuer.replace(/\n/g, ", "), notAfter: Date.parse(cert.validTo) };
  } catch {
    return null;
  }
}

/** The last `bytes` of a file as lines (the first, maybe cut, dropped); [] when it cannot be read. */
async function tail(path: string, bytes: number): Promise<string[]> {
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return [];
  try {
    const size = (await fh.stat()).size;
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString("utf8").split("\n");
    return start > 0 ? lines.slice(1) : lines;
  } finally {
    await fh.close();
  }
}

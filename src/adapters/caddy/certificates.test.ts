import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CaddyCertificates, certificateInfo } from "./certificates.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-certs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate made by openssl, valid `days` days. */
function selfSigned(cn: string, days: number): string {
  const key = join(dir, `${cn}-${days}.key`);
  const out = join(dir, `${cn}-${days}.crt`);
  const r = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", out, "-days", String(days), "-subj", `/CN=${cn}`]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return Bun.file(out).text() as unknown as string;
}

test("reads issuer and expiry from Caddy's storage, newest of any issuer dir; null when none", async () => {
  const certs = join(dir, "caddy", "data", "caddy", "certificates");
  const short = await selfSigned("Short CA", 1);
  const long = await selfSigned("Long CA", 30);
  for (const [issuerDir, pem] of [["local", short], ["acme-v02.api.letsencrypt.org-directory", long]] as const) {
    mkdirSync(join(certs, issuerDir, "shop.example.org"), { recursive: true });
    writeFileSync(join(certs, issuerDir, "shop.example.org", "shop.example.org.crt"), pem);
  }
  const c = new CaddyCertificates({ adminUrl: "http://127.0.0.1:1", dataDir: dir });
  const info = await c.certificate("shop.example.org");
  expect(info?.issuer).toBe("Long CA");
  expect(info!.notAfter).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  expect(await c.certificate("none.example.org")).toBeNull();
  expect(certificateInfo("garbage")).toBeNull();
});

test("lastError reads the tail of <dataDir>/caddy/caddy.log", async () => {
  mkdirSync(join(dir, "caddy"), { recursive: true });
  writeFileSync(join(dir, "caddy", "caddy.log"), "noise\n" + JSON.stringify({ level: "error", ts: 5, logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: "shop.example.org", error: "boom" }) + "\n");
  const c = new CaddyCertificates({ adminUrl: "http://127.0.0.1:1", dataDir: dir });
  expect(await c.lastError("shop.example.org", 0)).toBe("could not get certificate from issuer: boom");
  expect(await c.lastError("shop.example.org", 10_000)).toBeNull();
});

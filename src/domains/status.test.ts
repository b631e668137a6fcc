import { describe, expect, test } from "bun:test";
import { domainState, explainFailure } from "./status.ts";

const base = { host: "shop.example.org", url: "https://shop.example.org/", certificate: null, error: null, now: 1_000_000, logPath: "/d/caddy/caddy.log" };
const cert = { issuer: "R11", notAfter: 2_000_000 };

describe("domainState", () => {
  test("TLS off: http, saying how to turn HTTPS on", () => {
    const s = domainState({ ...base, tls: "off", url: "http://shop.example.org:8080/" });
    expect(s.status).toBe("http");
    expect(s.detail).toContain("KILN_TLS");
  });

  test("a valid certificate: active, with issuer and expiry", () => {
    const s = domainState({ ...base, tls: "acme", certificate: cert, error: "old failure" });
    expect(s).toEqual({ status: "active", certificate: cert, detail: expect.stringContaining("R11") });
  });

  test("none yet: pending, issued at the first HTTPS request (acme: once DNS points here)", () => {
    expect(domainState({ ...base, tls: "internal" })).toMatchObject({ status: "pending", certificate: null });
    expect(domainState({ ...base, tls: "acme" }).detail).toContain("DNS points at this server");
    expect(domainState({ ...base, tls: "acme", certificate: { issuer: "R11", notAfter: 10 } }).detail).toContain("expired");
  });

  test("an error and no certificate: failed, with why", () => {
    const s = domainState({ ...base, tls: "acme", error: "urn:ietf:params:acme:error:dns DNS problem: NXDOMAIN looking up A for shop.example.org" });
    expect(s.status).toBe("failed");
    expect(s.detail).toContain("A/AAAA records");
  });
});

describe("explainFailure", () => {
  const why = (raw: string) => explainFailure(raw, "shop.example.org", "/d/caddy.log");
  test("DNS not pointing here", () => {
    expect(why("urn:ietf:params:acme:error:unauthorized 1.2.3.4: Invalid response from http://shop.example.org/.well-known/acme-challenge/x: 404")).toContain("points here");
    expect(why("urn:ietf:params:acme:error:connection 1.2.3.4: Timeout during connect (likely firewall problem)")).toContain("open ports 80 and 443");
  });
  test("rate limited", () => {
    expect(why("HTTP 429 urn:ietf:params:acme:error:rateLimited - too many certificates (5) already issued for this exact set of domains")).toContain("rate limit");
  });
  test("CA unreachable", () => {
    expect(why('fetching directory: Get "https://acme-v02.api.letsencrypt.org/directory": dial tcp: lookup acme-v02.api.letsencrypt.org: no such host')).toContain("could not reach the certificate authority");
  });
  test("anything else: Caddy's words and where the log is", () => {
    const s = why("something odd");
    expect(s).toContain("something odd");
    expect(s).toContain("/d/caddy.log");
  });
});

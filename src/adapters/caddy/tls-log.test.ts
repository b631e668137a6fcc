import { expect, test } from "bun:test";
import { lastTlsError } from "./tls-log.ts";

const line = (o: Record<string, unknown>) => JSON.stringify({ level: "error", ts: 2000, ...o });

test("the last tls error naming the host since a time, with the ACME problem's text", () => {
  const lines = [
    line({ logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: "shop.example.org", error: "too old", ts: 1 }),
    line({ logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: "other.example.org", error: "not this host" }),
    line({ logger: "http.log.error", msg: "dial tcp", error: "shop.example.org unrelated" }),
    "not json shop.example.org",
    line({ logger: "tls.issuance.acme.acme_client", msg: "challenge failed", identifier: "shop.example.org", problem: { type: "urn:ietf:params:acme:error:dns", detail: "NXDOMAIN" } }),
    JSON.stringify({ level: "info", ts: 3000, logger: "tls.obtain", msg: "obtaining certificate", identifier: "shop.example.org" }),
  ];
  expect(lastTlsError(lines, "shop.example.org", 1_000_000)).toBe("challenge failed: urn:ietf:params:acme:error:dns NXDOMAIN");
  expect(lastTlsError(lines, "shop.example.org", 3_000_000)).toBeNull();
  expect(lastTlsError([line({ logger: "tls.obtain", msg: "will retry", error: "[shop.example.org] Obtain: rateLimited" })], "shop.example.org", 0)).toBe("will retry: [shop.example.org] Obtain: rateLimited");
  expect(lastTlsError([], "shop.example.org", 0)).toBeNull();
});

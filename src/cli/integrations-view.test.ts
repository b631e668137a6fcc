import { expect, test } from "bun:test";
import type { Deployment, Domain, WebhookCreated } from "../client/api-client.ts";
import { UsageError } from "./args.ts";
import { certExpiry, domainAddedLines, domainRows, previewRows, subcommand, webhookCreatedLines, webhookLines } from "./integrations-view.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const domain = (over: Partial<Domain> = {}): Domain => ({
  host: "shop.example.com",
  status: "active",
  detail: "certificate from Kiln CA, valid until …",
  certificate: { issuer: "Kiln CA", notAfter: "2026-03-01T00:00:00.000Z" },
  url: "https://shop.example.com/",
  createdAt: "2025-12-31T00:00:00.000Z",
  ...over,
});

test("subcommand picks one of the allowed words, and names the choices when it is missing or wrong", () => {
  expect(subcommand(["add", "hello", "a.example"], ["ls", "add", "rm"], "domains")).toEqual({ sub: "add", rest: ["hello", "a.example"] });
  expect(() => subcommand([], ["ls", "add", "rm"], "domains")).toThrow("missing ls, add or rm");
  expect(() => subcommand(["frob"], ["ls", "add", "rm"], "domains")).toThrow('unknown domains command "frob": use ls, add or rm');
  expect(() => subcommand([], ["root-pem"], "tls")).toThrow("missing root-pem");
  expect(() => subcommand(["x"], ["create"], "webhook")).toThrow(UsageError);
});

test("certificate expiry: the day and how far off, expired, or - without a certificate", () => {
  expect(certExpiry(domain().certificate, NOW)).toBe("2026-03-01 (in 59d)");
  expect(certExpiry({ issuer: "x", notAfter: "2025-12-01T00:00:00.000Z" }, NOW)).toBe("2025-12-01 (expired)");
  expect(certExpiry({ issuer: "x", notAfter: "2026-01-01T05:00:00.000Z" }, NOW)).toBe("2026-01-01 (in <1d)");
  expect(certExpiry(null, NOW)).toBe("-");
});

test("domains as rows (host, status, expiry, detail) and the lines of domains add", () => {
  const http = domain({ status: "http", certificate: null, detail: "served over plain HTTP", url: "http://a.example:8080/", host: "a.example" });
  expect(domainRows([domain(), http], NOW)).toEqual([
    ["HOST", "STATUS", "CERT EXPIRES", "DETAIL"],
    ["shop.example.com", "active", "2026-03-01 (in 59d)", "certificate from Kiln CA, valid until …"],
    ["a.example", "http", "-", "served over plain HTTP"],
  ]);
  expect(domainAddedLines("hello", http)).toEqual(["a.example attached to hello: http://a.example:8080/", "  http: served over plain HTTP"]);
});

test("webhook create shows the URL, the secret and the hints; show never has a secret", () => {
  const made: WebhookCreated = {
    url: "http://127.0.0.1:4000/api/v1/hooks/d1",
    publicUrl: "http://localhost:8080/_kiln/hooks/d1",
    secret: "whsec-123",
    rotated: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    hints: { github: "GH", gitlab: "GL", gitea: "GT", generic: "curl" },
  };
  const text = webhookCreatedLines("hello", made).join("\n");
  expect(text).toContain("created a webhook for hello");
  expect(text).toContain("URL:     http://localhost:8080/_kiln/hooks/d1");
  expect(text).toContain("secret:  whsec-123");
  expect(text).toContain("shown only now");
  for (const h of ["GH", "GL", "GT", "curl"]) expect(text).toContain(h);
  expect(webhookCreatedLines("hello", { ...made, rotated: true })[0]).toContain("rotated");
  const shown = webhookLines("hello", { configured: true, url: made.url, publicUrl: made.publicUrl, createdAt: made.createdAt }).join("\n");
  expect(shown).toContain(made.publicUrl);
  expect(shown).not.toContain("whsec");
  expect(webhookLines("hello", { configured: false, url: made.url, publicUrl: made.publicUrl, createdAt: null })).toEqual(["hello has no webhook; make one with: kiln webhook create hello"]);
});

test("previews as rows: name, status, pull request (fork marked), ref, short commit, URL, age", () => {
  const base = { status: "running", url: "http://app-pr-7.localhost:8080/", createdAt: "2025-12-31T23:00:00.000Z" };
  const rows = previewRows(
    [
      { ...base, name: "app-pr-7", preview: { parentId: "p", number: 7, ref: "feature", commit: "0123456789abcdef", fork: true } },
      { ...base, name: "app-main", preview: { parentId: "p", number: null, ref: "main", commit: null, fork: false }, currentBuild: { commit: "fedcba9876543210" } },
      { ...base, name: "app-new", preview: { parentId: "p", number: null, ref: "new", commit: null, fork: false }, currentBuild: null },
    ] as unknown as Deployment[],
    NOW,
  );
  expect(rows[1]).toEqual(["app-pr-7", "running", "#7 (fork)", "feature", "0123456", "http://app-pr-7.localhost:8080/", "1h ago"]);
  expect(rows[2]!.slice(2, 5)).toEqual(["-", "main", "fedcba9"]);
  expect(rows[3]!.slice(2, 5)).toEqual(["-", "new", "-"]);
});

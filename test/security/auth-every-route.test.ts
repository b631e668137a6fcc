/**
 * Every route of the API needs the token, but the few that say they don't: read from the OpenAPI
 * document, so a route added later is checked too. A Kiln of its own: the failed requests here fill
 * the failed-auth limit of their address.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
});

afterAll(async () => {
  await kiln?.stop();
});

test("every route in the OpenAPI document needs the token, but the few that say they don't", async () => {
  // Token-free on purpose: health and the document itself; the webhook receiver (its own secret);
  // Caddy's TLS ask check (loopback peers only).
  const FREE = new Set(["get /health", "get /openapi.json", "post /hooks/{id}", "get /tls/ask"]);
  const doc = (await (await fetch(`${kiln.apiUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const checked: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (FREE.has(`${method} ${path}`)) continue;
      const url = `${kiln.apiUrl}/api/v1${path.replace(/\{[^}]+\}/g, "x")}`;
      const res = await fetch(url, { method: method.toUpperCase(), headers: { "content-type": "application/json" }, body: method === "get" ? undefined : "{}" });
      // 429: the failed-auth limit (auth-limit.ts) answers only where the token was required and missing.
      expect([`${method} ${path}`, res.status === 429 ? 401 : res.status]).toEqual([`${method} ${path}`, 401]);
      await res.arrayBuffer();
      checked.push(`${method} ${path}`);
    }
  }
  // the routes this round added are among them
  for (const r of ["post /deployments/{id}/rollback", "patch /deployments/{id}/env", "patch /deployments/{id}/settings", "post /deployments/{id}/domains", "post /deployments/{id}/webhook", "post /deployments/{id}/previews/upload", "get /tls/root.pem"]) {
    expect(checked).toContain(r);
  }
});

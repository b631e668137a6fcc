/**
 * Domains and HTTPS against a real Kiln, Caddy and Docker engine, KILN_TLS=internal, all on
 * 127.0.0.1 (curl --resolve maps the names): a domain attached to an app answers over HTTPS with a
 * certificate chaining to GET /api/v1/tls/root.pem, plain HTTP redirects to HTTPS, the default
 * <name>.localhost host is served over HTTPS too, a second app cannot take the domain, an unattached
 * name gets no certificate, the domain comes back after Caddy is killed and restarted by the
 * supervisor, and answers 404 once removed. Bad input and missing tokens on every endpoint.
 * The tests run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { freePort } from "../helpers/ports.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");
const STATIC = join(import.meta.dir, "../fixtures/apps/static");
const DOMAIN = "shop.kiln-test.example";
let kiln: TestKiln;
let httpsPort: number;
let tmp: string;
let rootPath: string;

const post = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** curl over HTTPS to `host` on 127.0.0.1, trusting only Kiln's root: {code: curl's exit code, status, body}. */
async function https(host: string, path = "/"): Promise<{ code: number; status: number; body: string }> {
  const proc = Bun.spawn(
    ["curl", "-sS", "--max-time", "10", "--cacert", rootPath, "--resolve", `${host}:${httpsPort}:127.0.0.1`, "-w", "\n%{http_code}", `https://${host}:${httpsPort}${path}`],
    { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
  );
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const i = out.lastIndexOf("\n");
  return { code, status: Number(out.slice(i + 1)) || 0, body: out.slice(0, Math.max(i, 0)) };
}

async function deploy(dir: string, name: string): Promise<string> {
  const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: await tarOf(dir, true) });
  expect(res.status).toBe(202);
  const d = (await res.json()) as { id: string };
  await kiln.waitFor(d.id, ["running"]);
  return d.id;
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    await Bun.sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "kiln-domains-"));
  rootPath = join(tmp, "root.pem");
  httpsPort = freePort();
  kiln = await startTestKiln({ KILN_TLS: "internal", KILN_HTTPS_PORT: String(httpsPort) });
  await Promise.all([deploy(HELLO, "shop"), deploy(STATIC, "other")]);
}, 300_000);

afterAll(async () => {
  await kiln?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("root.pem", () => {
  test("needs the token", async () => {
    const res = await fetch(`${kiln.apiUrl}/api/v1/tls/root.pem`);
    expect(res.status).toBe(401);
  });

  test("is the internal CA's root certificate", async () => {
    const res = await kiln.api("/tls/root.pem");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-pem-file");
    const pem = await res.text();
    expect(pem).toStartWith("-----BEGIN CERTIFICATE-----");
    writeFileSync(rootPath, pem);
  });
});

describe("bad input and auth", () => {
  test("no token: 401 on add, list and remove", async () => {
    const bare = (path: string, init?: RequestInit) => fetch(`${kiln.apiUrl}/api/v1${path}`, init);
    expect((await bare("/deployments/shop/domains", post({ host: DOMAIN }))).status).toBe(401);
    expect((await bare("/deployments/shop/domains")).status).toBe(401);
    expect((await bare(`/deployments/shop/domains/${DOMAIN}`, { method: "DELETE" })).status).toBe(401);
  });

  test("hosts that are not a domain of the user's are 400 with a hint", async () => {
    for (const host of ["1.2.3.4", "not a name", "*.example.com", "localhost", "other.localhost", "a.b.localhost", "single", "127.0.0.1", "x".repeat(254)]) {
      const res = await kiln.api("/deployments/shop/domains", post({ host }));
      expect({ host, status: res.status }).toEqual({ host, status: 400 });
      const body = (await res.json()) as { error: { kind: string; hint?: string } };
      expect(body.error.kind).toBe("bad_request");
    }
  });

  test("a missing or extra field is 400; an unknown app is 404", async () => {
    expect((await kiln.api("/deployments/shop/domains", post({}))).status).toBe(400);
    expect((await kiln.api("/deployments/shop/domains", post({ host: DOMAIN, extra: 1 }))).status).toBe(400);
    expect((await kiln.api("/deployments/shop/domains", { method: "POST", headers: { "content-type": "application/json" }, body: "{" })).status).toBe(400);
    expect((await kiln.api("/deployments/nope/domains", post({ host: DOMAIN }))).status).toBe(404);
    expect((await kiln.api("/deployments/nope/domains")).status).toBe(404);
    expect((await kiln.api(`/deployments/shop/domains/${DOMAIN}`, { method: "DELETE" })).status).toBe(404);
  });

  test("the ask check needs no token, answers loopback only, and wants a domain", async () => {
    expect((await fetch(`${kiln.apiUrl}/api/v1/tls/ask`)).status).toBe(400);
    expect((await fetch(`${kiln.apiUrl}/api/v1/tls/ask?domain=nobody.kiln-test.example`)).status).toBe(404);
    expect((await fetch(`${kiln.apiUrl}/api/v1/tls/ask?domain=shop.localhost`)).status).toBe(200);
    expect((await fetch(`${kiln.apiUrl}/api/v1/tls/ask?domain=nope.localhost`)).status).toBe(404);
  });
});

describe("a domain over HTTPS", () => {
  test("attached: 201, pending until the first HTTPS request", async () => {
    const res = await kiln.api("/deployments/shop/domains", post({ host: "Shop.Kiln-Test.Example" }));
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ host: DOMAIN, status: "pending", certificate: null, url: `https://${DOMAIN}:${httpsPort}/` });
    expect(body.detail).toContain("first HTTPS request");
    expect((await fetch(`${kiln.apiUrl}/api/v1/tls/ask?domain=${DOMAIN}`)).status).toBe(200);
  });

  test("answers over HTTPS with a certificate chaining to root.pem", async () => {
    const r = await https(DOMAIN, "/hi?x=1");
    expect(r).toMatchObject({ code: 0, status: 200 });
    expect(r.body).toContain("hello from kiln");
    expect(r.body).toContain("path /hi?x=1");
  });

  test("its status is then active, with the issuer and expiry", async () => {
    const list = (await (await kiln.api("/deployments/shop/domains")).json()) as { domains: Record<string, any>[] };
    expect(list.domains).toHaveLength(1);
    const d = list.domains[0]!;
    expect(d).toMatchObject({ host: DOMAIN, status: "active" });
    expect(d.certificate.issuer).toContain("Caddy Local Authority");
    expect(Date.parse(d.certificate.notAfter)).toBeGreaterThan(Date.now());
  });

  test("plain HTTP redirects (308) to HTTPS, keeping host, path and query", async () => {
    const res = await fetch(`http://127.0.0.1:${kiln.publicPort}/a/b?c=d`, { headers: { host: `${DOMAIN}:${kiln.publicPort}` }, redirect: "manual" });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe(`https://${DOMAIN}:${httpsPort}/a/b?c=d`);
    const dflt = await fetch(`http://127.0.0.1:${kiln.publicPort}/x`, { headers: { host: `shop.localhost:${kiln.publicPort}` }, redirect: "manual" });
    expect(dflt.status).toBe(308);
    expect(dflt.headers.get("location")).toBe(`https://shop.localhost:${httpsPort}/x`);
  });

  test("the default host <name>.localhost is served over HTTPS too", async () => {
    const r = await https("shop.localhost", "/");
    expect(r).toMatchObject({ code: 0, status: 200 });
    expect(r.body).toContain("hello from kiln");
  });

  test("/_kiln/hooks/* on the domain goes to Kiln's API, not the app", async () => {
    const r = await https(DOMAIN, "/_kiln/hooks/nope");
    expect(r.code).toBe(0);
    expect(r.body).not.toContain("hello from kiln");
    expect(JSON.parse(r.body)).toHaveProperty("error");
  });

  test("a second app cannot take it (409 naming the holder)", async () => {
    const res = await kiln.api("/deployments/other/domains", post({ host: DOMAIN }));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("shop");
    expect((await kiln.api("/deployments/shop/domains", post({ host: DOMAIN }))).status).toBe(201); // the same app again: a no-op
  });

  test("an unattached name gets no certificate: the handshake fails", async () => {
    const r = await https("nobody.kiln-test.example", "/");
    expect(r.code).not.toBe(0);
    expect(r.status).toBe(0);
  });

  test("after Caddy is killed, the supervisor restarts it and the domain answers over HTTPS again", async () => {
    const pid = Number(readFileSync(join(kiln.config.dataDir, "caddy", "caddy.pid"), "utf8").trim());
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    const r = await until(
      "the domain after Caddy's restart",
      async () => {
        const now = Number(readFileSync(join(kiln.config.dataDir, "caddy", "caddy.pid"), "utf8").trim());
        if (now === pid) return null;
        const res = await https(DOMAIN, "/back");
        return res.status === 200 ? res : null;
      },
      60_000,
    );
    expect(r.body).toContain("path /back");
  }, 90_000);

  test("removed: 204, then the domain answers 404 and a second removal is 404", async () => {
    expect((await kiln.api(`/deployments/shop/domains/${DOMAIN}`, { method: "DELETE" })).status).toBe(204);
    const r = await https(DOMAIN, "/");
    expect(r.status).toBe(404);
    expect(r.body).not.toContain("hello from kiln");
    expect((await kiln.api(`/deployments/shop/domains/${DOMAIN}`, { method: "DELETE" })).status).toBe(404);
    expect(((await (await kiln.api("/deployments/shop/domains")).json()) as { domains: unknown[] }).domains).toEqual([]);
    expect((await fetch(`${kiln.apiUrl}/api/v1/tls/ask?domain=${DOMAIN}`)).status).toBe(404);
  });

  test("the freed domain can go to the other app", async () => {
    expect((await kiln.api("/deployments/other/domains", post({ host: DOMAIN }))).status).toBe(201);
    const r = await https(DOMAIN, "/");
    expect(r.status).toBe(200);
    expect(r.body).not.toContain("hello from kiln");
  });
});

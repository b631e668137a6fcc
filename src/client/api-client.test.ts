import { expect, test } from "bun:test";
import { ClientError, KilnClient } from "./api-client.ts";

function fakeFetch(respond: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return respond(url, init);
  }) as unknown as typeof fetch;
  return { f, calls };
}

test("requests carry the token and JSON; the base URL may include /api/v1 or not", async () => {
  const { f, calls } = fakeFetch(() => Response.json({ tenantId: "t", workload: "w", containerId: "c", endpoint: null, source: "pool", latencyMs: 3 }));
  const api = new KilnClient({ baseUrl: "http://k:4000/", token: "tok", fetch: f });
  const claim = await api.claim("w", "t/1");
  expect(claim.source).toBe("pool");
  expect(calls[0]!.url).toBe("http://k:4000/api/v1/tenants/t%2F1/claim");
  expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer tok");
  expect(calls[0]!.init.body).toBe('{"workload":"w"}');
  expect(new KilnClient({ baseUrl: "http://k/api/v1", token: "x" }).apiBase).toBe("http://k/api/v1");
});

test("the API's error body becomes a ClientError with status, kind, message and hint", async () => {
  const { f } = fakeFetch(() => Response.json({ error: { kind: "not_found", message: "no deployment x", hint: "kiln ls" } }, { status: 404 }));
  const err = await new KilnClient({ baseUrl: "http://k", token: "t", fetch: f }).getDeployment("x").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  expect(err).toMatchObject({ status: 404, kind: "not_found", message: "no deployment x", hint: "kiln ls" });
});

test("no answer at all is status 0, kind unreachable", async () => {
  const f = (async () => {
    throw new Error("ECONNREFUSED");
  }) as unknown as typeof fetch;
  const err = await new KilnClient({ baseUrl: "http://k", token: "t", fetch: f }).health().catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 0, kind: "unreachable" });
});

test("upload reports progress chunk by chunk up to the total", async () => {
  const { f, calls } = fakeFetch(() => Response.json({ id: "d" }, { status: 202 }));
  const seen: number[] = [];
  const bytes = new Uint8Array(200 * 1024);
  await new KilnClient({ baseUrl: "http://k", token: "t", fetch: f }).upload(bytes, "app", (sent, total) => {
    expect(total).toBe(bytes.byteLength);
    seen.push(sent);
  });
  // the fake fetch never reads the body: drain it as a server would
  const body = calls[0]!.init.body as ReadableStream<Uint8Array>;
  expect((await new Response(body).arrayBuffer()).byteLength).toBe(bytes.byteLength);
  expect(seen.at(-1)).toBe(bytes.byteLength);
  expect(calls[0]!.url).toBe("http://k/api/v1/deployments/upload?name=app");
});

test("day-two calls: the paths, ?wait=true, the bodies and X-Kiln-Via", async () => {
  const { f, calls } = fakeFetch(() => Response.json({ applied: "released", release: null, deployment: {} }));
  const api = new KilnClient({ baseUrl: "http://k", token: "t", fetch: f, via: "cli" });
  await api.rollback("app", { release: 2, wait: true });
  await api.rollback("app");
  await api.patchEnv("app", { set: { A: "1" }, unset: ["B"] }, { wait: true });
  await api.putEnv("app", { A: { value: "1", buildTime: true } });
  await api.patchSettings("app", { replicas: 2 }, { wait: true });
  await api.remove("app", { volumes: true });
  const seen = calls.map((c) => `${c.init.method} ${c.url.replace("http://k/api/v1", "")} ${c.init.body ?? ""}`);
  expect(seen).toEqual([
    'POST /deployments/app/rollback?wait=true {"release":2}',
    "POST /deployments/app/rollback {}",
    'PATCH /deployments/app/env?wait=true {"set":{"A":"1"},"unset":["B"]}',
    'PUT /deployments/app/env {"env":{"A":{"value":"1","buildTime":true}}}',
    'PATCH /deployments/app/settings?wait=true {"replicas":2}',
    "DELETE /deployments/app?volumes=true ",
  ]);
  for (const c of calls) expect((c.init.headers as Record<string, string>)["x-kiln-via"]).toBe("cli");
  const plain = fakeFetch(() => Response.json({ releases: [] }));
  await new KilnClient({ baseUrl: "http://k", token: "t", fetch: plain.f }).releases("app");
  expect((plain.calls[0]!.init.headers as Record<string, string>)["x-kiln-via"]).toBeUndefined();
});

test("upload sends env and settings as JSON headers, non-ASCII escaped so the header stays Latin-1", async () => {
  const { f, calls } = fakeFetch(() => Response.json({ id: "d" }, { status: 202 }));
  await new KilnClient({ baseUrl: "http://k", token: "t", fetch: f }).upload(new Uint8Array(1), "app", undefined, { env: { GREETING: "héllo ✓" }, settings: { replicas: 2 } });
  const headers = calls[0]!.init.headers as Record<string, string>;
  expect(headers["kiln-env"]).toMatch(/^[\x20-\x7e]+$/);
  expect(JSON.parse(headers["kiln-env"]!)).toEqual({ GREETING: "héllo ✓" });
  expect(JSON.parse(headers["kiln-settings"]!)).toEqual({ replicas: 2 });
  await new KilnClient({ baseUrl: "http://k", token: "t", fetch: f }).upload(new Uint8Array(1));
  expect((calls[1]!.init.headers as Record<string, string>)["kiln-env"]).toBeUndefined();
});

test("integration calls: domains, TLS root, webhook and previews paths and bodies; the root PEM comes back as text", async () => {
  const { f, calls } = fakeFetch((url, init) => {
    if (init.method === "DELETE") return new Response(null, { status: 204 });
    if (url.endsWith("/tls/root.pem")) return new Response("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n", { headers: { "content-type": "application/x-pem-file" } });
    if (url.endsWith("/domains")) return Response.json({ domains: [{ host: "a.example" }] });
    if (url.endsWith("/previews")) return Response.json({ previews: [{ name: "app-x" }] });
    return Response.json({});
  });
  const api = new KilnClient({ baseUrl: "http://k", token: "t", fetch: f });
  expect((await api.domains("app")).map((d) => d.host)).toEqual(["a.example"]);
  await api.addDomain("app", "Shop.Example.com");
  await api.removeDomain("app", "shop.example.com");
  expect(await api.rootPem()).toStartWith("-----BEGIN CERTIFICATE-----");
  await api.createWebhook("app");
  await api.deleteWebhook("app");
  expect((await api.previews("app")).map((d) => d.name)).toEqual(["app-x"]);
  await api.createPreview("app", "feature/login");
  const seen = calls.map((c) => `${c.init.method} ${c.url.replace("http://k/api/v1", "")} ${c.init.body ?? ""}`);
  expect(seen).toEqual([
    "GET /deployments/app/domains ",
    'POST /deployments/app/domains {"host":"Shop.Example.com"}',
    "DELETE /deployments/app/domains/shop.example.com ",
    "GET /tls/root.pem ",
    "POST /deployments/app/webhook ",
    "DELETE /deployments/app/webhook ",
    "GET /deployments/app/previews ",
    'POST /deployments/app/previews {"ref":"feature/login"}',
  ]);
});

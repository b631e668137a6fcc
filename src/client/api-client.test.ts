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

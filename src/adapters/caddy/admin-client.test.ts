import { afterAll, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import { CaddyAdminClient, caddyError } from "./admin-client.ts";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/config/") return Response.json({ admin: {} });
    if (url.pathname === "/echo") return Response.json({ method: req.method, type: req.headers.get("content-type"), body: await req.json() });
    if (url.pathname === "/empty") return new Response(null, { status: 200 });
    return Response.json({ error: "unknown object ID 'x'" }, { status: 404 });
  },
});
afterAll(() => server.stop(true));
const client = new CaddyAdminClient(`http://127.0.0.1:${server.port}/`);

test("sends JSON and parses JSON", async () => {
  const res = await client.put("/echo", { a: 1 });
  expect(res).toEqual({ status: 200, body: { method: "PUT", type: "application/json", body: { a: 1 } } });
  expect((await client.get("/empty")).body).toBeNull();
});

test("non-2xx is an unavailable error with Caddy's message, unless allowed", async () => {
  const err = await client.get("/id/x").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(KilnError);
  expect((err as KilnError).kind).toBe("unavailable");
  expect((err as KilnError).message).toContain("GET /id/x (404): unknown object ID 'x'");
  expect((await client.delete("/id/x", { allow: [404] })).status).toBe(404);
});

test("an admin API that does not answer is unavailable, with a hint", async () => {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port;
  s.stop(true);
  const dead = new CaddyAdminClient(`http://127.0.0.1:${port}`);
  const err = (await dead.get("/config/").catch((e: unknown) => e)) as KilnError;
  expect(err.kind).toBe("unavailable");
  expect(err.message).toContain(`http://127.0.0.1:${port} did not answer GET /config/`);
  expect(err.hint).toContain("caddy");
  expect(await dead.answers()).toBe(false);
  expect(await client.answers()).toBe(true);
});

test("caddyError", () => {
  expect(caddyError({ error: "boom" }, "")).toBe("boom");
  expect(caddyError(null, "  plain text ")).toBe("plain text");
  expect(caddyError(null, "")).toBe("(empty response)");
});

/** CaddyRouteTable against a fake admin API that keeps a routes array and records calls. */
import { afterAll, beforeEach, expect, test } from "bun:test";
import { CaddyRouteTable } from "./route-table.ts";

let routes: Record<string, unknown>[] | null = null;
let loaded: Record<string, unknown> | null = null;
const calls: string[] = [];
const ROUTES = "/config/apps/http/servers/kiln/routes";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const { pathname } = new URL(req.url);
    calls.push(`${req.method} ${pathname}`);
    await Bun.sleep(2); // let concurrent callers interleave if they could
    const notFound = () => Response.json({ error: "unknown object ID" }, { status: 404 });
    if (pathname === "/config/") return Response.json({});
    if (pathname === "/load" && req.method === "POST") {
      loaded = (await req.json()) as Record<string, unknown>;
      const apps = loaded.apps as { http: { servers: { kiln: { routes: Record<string, unknown>[] } } } };
      routes = apps.http.servers.kiln.routes;
      return new Response();
    }
    if (pathname === ROUTES) {
      if (routes === null) return Response.json({ error: "invalid traversal path at: config/apps/http" }, { status: 400 });
      return Response.json(routes);
    }
    if (pathname === `${ROUTES}/0` && req.method === "PUT") {
      const body = (await req.json()) as Record<string, unknown>;
      if (body["@id"] === "kiln-app-boom") return Response.json({ error: "boom" }, { status: 500 });
      if (routes === null) return Response.json({ error: "cannot unmarshal object into caddyhttp.RouteList" }, { status: 500 });
      routes!.unshift(body);
      return new Response();
    }
    const id = pathname.startsWith("/id/") ? decodeURIComponent(pathname.slice(4)) : null;
    const i = routes?.findIndex((r) => r["@id"] === id) ?? -1;
    if (id === null || i < 0) return notFound();
    if (req.method === "GET") return Response.json(routes![i]);
    if (req.method === "PATCH") routes![i] = (await req.json()) as Record<string, unknown>;
    if (req.method === "DELETE") routes!.splice(i, 1);
    return new Response();
  },
});
afterAll(() => server.stop(true));

const table = new CaddyRouteTable({ adminUrl: `http://127.0.0.1:${server.port}`, publicHost: "localhost", publicPort: 8080 });
const route = (id: string, port = 4000) => ({ deploymentId: id, name: `app-${id}`, upstream: `127.0.0.1:${port}` });
const ids = () => routes?.map((r) => r["@id"]);

beforeEach(async () => {
  routes = null;
  loaded = null;
  await table.load([]);
  calls.length = 0;
});

test("load posts the whole config, keeping the admin block", async () => {
  await table.load([route("a")]);
  expect(loaded?.admin).toEqual({ listen: `127.0.0.1:${server.port}`, config: { persist: false } });
  expect(ids()).toEqual(["kiln-app-a", "kiln-fallback"]);
});

test("upsert inserts a new route at the front, before the fallback", async () => {
  await table.upsert(route("a"));
  await table.upsert(route("b"));
  expect(ids()).toEqual(["kiln-app-b", "kiln-app-a", "kiln-fallback"]);
  // after a load, a route the table has not put there yet costs one request
  expect(calls.slice(0, 2)).toEqual([`PUT ${ROUTES}/0`, `PUT ${ROUTES}/0`]);
});

test("upsert of an existing id patches it in place", async () => {
  await table.load([route("a"), route("b")]);
  calls.length = 0;
  await table.upsert(route("a", 5000));
  expect(calls).toEqual(["GET /id/kiln-app-a", "PATCH /id/kiln-app-a"]);
  expect(ids()).toEqual(["kiln-app-a", "kiln-app-b", "kiln-fallback"]);
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:5000");
});

test("concurrent upserts of the same id do not both insert", async () => {
  await Promise.all([table.upsert(route("a", 1)), table.upsert(route("a", 2)), table.upsert(route("a", 3))]);
  expect(ids()).toEqual(["kiln-app-a", "kiln-fallback"]);
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:3");
});

test("invalid routes are rejected before reaching Caddy", async () => {
  await expect(table.upsert({ deploymentId: "x", name: "x", upstream: "nope" })).rejects.toThrow("want host:port");
  expect(calls).toEqual([]);
});

test("a failing mutation does not block the queue", async () => {
  const bad = table.upsert(route("boom")).catch((e: unknown) => e);
  await table.upsert(route("a"));
  expect(String(await bad)).toContain("boom");
  expect(ids()).toEqual(["kiln-app-a", "kiln-fallback"]);
});

test("upsert into a Caddy without the ingress server loads it", async () => {
  routes = null;
  await table.upsert(route("a"));
  expect(calls).toContain("POST /load");
  expect(ids()).toEqual(["kiln-app-a", "kiln-fallback"]);
});

test("remove deletes by id; an unknown id is fine", async () => {
  await table.load([route("a"), route("b")]);
  await table.remove("a");
  await table.remove("a");
  expect(ids()).toEqual(["kiln-app-b", "kiln-fallback"]);
});

test("list returns deployment ids only; none without an ingress server", async () => {
  await table.load([route("a"), route("b")]);
  expect(await table.list()).toEqual(["a", "b"]);
  routes = null;
  expect(await table.list()).toEqual([]);
  expect(await table.healthy()).toBe(true);
});

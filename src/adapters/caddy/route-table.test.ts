/** CaddyRouteTable against a fake admin API that keeps a routes array and records calls. */
import { afterAll, afterEach, beforeEach, expect, setSystemTime, test } from "bun:test";
import { CaddyRouteTable, LATE_START_MS } from "./route-table.ts";

let routes: Record<string, unknown>[] | null = null;
let loaded: Record<string, unknown> | null = null;
const calls: string[] = [];
/** What GET /reverse_proxy/upstreams answers. */
let upstreamsAnswer: { address: string; num_requests: number; fails: number }[] = [];
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
    if (pathname === "/reverse_proxy/upstreams") return Response.json(upstreamsAnswer);
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

const route = (id: string, port = 4000, ...more: number[]) => ({
  deploymentId: id,
  name: `app-${id}`,
  upstreams: [port, ...more].map((p) => `127.0.0.1:${p}`),
});
const ids = () => routes?.map((r) => r["@id"]);

let table = newTable();
function newTable() {
  return new CaddyRouteTable({ adminUrl: `http://127.0.0.1:${server.port}`, publicHost: "localhost", publicPort: 8080 });
}

beforeEach(async () => {
  routes = null;
  loaded = null;
  upstreamsAnswer = [];
  table = newTable();
  await table.load([]);
  calls.length = 0;
});
afterEach(() => setSystemTime());

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
  // (the upstreams GET: is the switched-out 4000 still busy?)
  expect(calls).toEqual(["GET /reverse_proxy/upstreams", "GET /id/kiln-app-a", "PATCH /id/kiln-app-a"]);
  expect(ids()).toEqual(["kiln-app-a", "kiln-app-b", "kiln-fallback"]);
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:5000");
});

test("concurrent upserts of the same id do not both insert", async () => {
  await Promise.all([table.upsert(route("a", 1)), table.upsert(route("a", 2)), table.upsert(route("a", 3))]);
  expect(ids()).toEqual(["kiln-app-a", "kiln-fallback"]);
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:3");
});

test("invalid routes are rejected before reaching Caddy", async () => {
  await expect(table.upsert({ deploymentId: "x", name: "x", upstreams: ["nope"] })).rejects.toThrow("want host:port");
  await expect(table.upsert({ deploymentId: "x", name: "x", upstreams: [] })).rejects.toThrow("without upstreams");
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

test("remove takes the app's route out; an unknown id is fine", async () => {
  await table.load([route("a"), route("b")]);
  await table.remove("a");
  await table.remove("a");
  await table.remove("zzz");
  // (its upstream stays named, where no request reaches it, until idle: see below)
  expect(ids()).toEqual(["kiln-drain-a", "kiln-app-b", "kiln-fallback"]);
  expect(await table.list()).toEqual(["b"]);
});

test("list returns deployment ids only; none without an ingress server", async () => {
  await table.load([route("a"), route("b")]);
  expect(await table.list()).toEqual(["a", "b"]);
  routes = null;
  expect(await table.list()).toEqual([]);
  expect(await table.healthy()).toBe(true);
});

const up = (port: number, num_requests: number) => ({ address: `127.0.0.1:${port}`, num_requests, fails: 0 });

test("inFlight sums Caddy's requests in flight to the given addresses only", async () => {
  await table.load([route("a", 4000, 4001)]);
  upstreamsAnswer = [up(4000, 2), up(4001, 3), up(4002, 7)];
  expect(await table.inFlight(["127.0.0.1:4000", "127.0.0.1:4001"])).toBe(5);
  expect(await table.inFlight(["127.0.0.1:4000", "127.0.0.1:4000"])).toBe(2);
  expect(await table.inFlight(["127.0.0.1:9999"])).toBe(0);
  expect(await table.inFlight([])).toBe(0);
});

test("a switched-out upstream stays named in the route, counts as busy for LATE_START_MS, then is let go when idle", async () => {
  const t0 = Date.now();
  setSystemTime(t0);
  await table.load([route("a", 4000)]);
  await table.upsert(route("a", 5000));
  const named = () => JSON.stringify(routes![0]).includes("127.0.0.1:4000");
  expect(named()).toBe(true);
  // Caddy may still start a request to it on a connection accepted before the switch.
  expect(await table.inFlight(["127.0.0.1:4000"])).toBe(1);
  expect(await table.inFlight(["127.0.0.1:5000"])).toBe(0);
  setSystemTime(t0 + LATE_START_MS + 1);
  upstreamsAnswer = [up(4000, 2), up(5000, 0)];
  expect(await table.inFlight(["127.0.0.1:4000"])).toBe(2);
  // Still busy: the next switch keeps it named.
  await table.upsert(route("a", 5000, 5001));
  expect(named()).toBe(true);
  upstreamsAnswer = [up(4000, 0)];
  expect(await table.inFlight(["127.0.0.1:4000"])).toBe(0);
  await table.upsert(route("a", 5001));
  expect(named()).toBe(false);
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:5000"); // just switched out
  // Routed again: no longer draining.
  await table.upsert(route("a", 5000));
  expect(await table.inFlight(["127.0.0.1:5000"])).toBe(0);
});

test("remove leaves a drain route while the upstreams may be busy; a mutation after they are idle deletes it", async () => {
  const t0 = Date.now();
  setSystemTime(t0);
  await table.load([route("a", 4000), route("b", 4100)]);
  await table.remove("a");
  expect(ids()).toEqual(["kiln-drain-a", "kiln-app-b", "kiln-fallback"]);
  expect(await table.list()).toEqual(["b"]);
  expect(await table.inFlight(["127.0.0.1:4000"])).toBe(1);
  setSystemTime(t0 + LATE_START_MS + 1);
  expect(await table.inFlight(["127.0.0.1:4000"])).toBe(0);
  // A load lets idle drained upstreams go.
  await table.load([route("b", 4100)]);
  expect(ids()).toEqual(["kiln-app-b", "kiln-fallback"]);
  // The next mutation after the upstreams went idle deletes the drain route.
  setSystemTime(t0 + 2 * LATE_START_MS);
  await table.remove("b");
  expect(ids()).toEqual(["kiln-drain-b", "kiln-fallback"]);
  upstreamsAnswer = [up(4100, 1)];
  setSystemTime(t0 + 3 * LATE_START_MS);
  await table.upsert(route("c", 4200));
  expect(ids()).toEqual(["kiln-app-c", "kiln-drain-b", "kiln-fallback"]); // 4100 still busy
  upstreamsAnswer = [];
  await table.remove("zzz");
  expect(ids()).toEqual(["kiln-app-c", "kiln-fallback"]);
  // Routing a removed deployment again replaces its drain route.
  await table.remove("c");
  await table.upsert(route("c", 4300));
  expect(ids()).toEqual(["kiln-app-c", "kiln-fallback"]);
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:4200");
});

test("a table that did not route a deployment reads its upstreams from Caddy before switching them out", async () => {
  await table.load([route("a", 4000)]);
  const fresh = newTable(); // a restarted Kiln
  await fresh.upsert(route("a", 5000));
  expect(JSON.stringify(routes![0])).toContain("127.0.0.1:4000");
  expect(await fresh.inFlight(["127.0.0.1:4000"])).toBe(1);
});

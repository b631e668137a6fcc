import { expect, test } from "bun:test";
import type { AppRoute, RouteTable } from "../../core/ports/routes.ts";
import { SwarmEdgeRoutes } from "./edge-routes.ts";

/** Records what reaches the host's Caddy and the edge (the decorator's logic is the subject). */
function setup() {
  const caddy: AppRoute[][] = [];
  const edge: any[] = [];
  const inner: RouteTable = {
    load: async (routes) => void caddy.push(routes),
    upsert: async (route) => void caddy.push([route]),
    remove: async () => {},
    list: async () => [],
    healthy: async () => true,
    inFlight: async () => 0,
  };
  const routes = new SwarmEdgeRoutes(inner, { address: "127.0.0.1:40000", apply: async (c) => void edge.push(c) }, "localhost");
  const hostsOf = () => edge.at(-1).apps.http.servers.edge.routes.slice(0, -1).map((r: any) => r.match[0].host);
  return { routes, caddy, edge, hostsOf };
}

const swarmRoute: AppRoute = { deploymentId: "d1", name: "web", upstreams: ["tasks.kiln-web-d1:3000"], hosts: ["web.example.com"], health: { path: "/h", intervalMs: 1000, timeoutMs: 1000 } };
const dockerRoute: AppRoute = { deploymentId: "d2", name: "api", upstreams: ["127.0.0.1:41000"] };

test("a Swarm app's route goes to the edge (hosts and domains) and, in Caddy, to the edge's address without an active check", async () => {
  const { routes, caddy, hostsOf } = setup();
  await routes.upsert(swarmRoute);
  expect(hostsOf()).toEqual([["web.localhost", "web.example.com"]]);
  expect(caddy.at(-1)).toEqual([{ deploymentId: "d1", name: "web", upstreams: ["127.0.0.1:40000"], hosts: ["web.example.com"] }]);
});

test("other routes pass through unchanged; load rebuilds the edge from the routes given", async () => {
  const { routes, caddy, edge, hostsOf } = setup();
  await routes.upsert(dockerRoute);
  expect(caddy.at(-1)).toEqual([dockerRoute]);
  expect(edge.length).toBe(0);
  await routes.load([swarmRoute, dockerRoute]);
  expect(caddy.at(-1)!.map((r) => r.upstreams)).toEqual([["127.0.0.1:40000"], ["127.0.0.1:41000"]]);
  expect(hostsOf()).toEqual([["web.localhost", "web.example.com"]]);
  await routes.remove("d1");
  expect(hostsOf()).toEqual([]);
});

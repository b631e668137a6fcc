import { expect, test } from "bun:test";
import type { AppRoute, RouteTable } from "../core/ports/routes.ts";
import { DomainRoutes } from "./domain-routes.ts";

function recorder() {
  const calls: [string, unknown][] = [];
  const inner: RouteTable = {
    load: async (r) => void calls.push(["load", r]),
    upsert: async (r) => void calls.push(["upsert", r]),
    remove: async (id) => void calls.push(["remove", id]),
    list: async () => [],
    healthy: async () => true,
    inFlight: async () => 0,
  };
  return { calls, inner };
}

const a: AppRoute = { deploymentId: "a1", name: "a", upstreams: ["127.0.0.1:1"] };
const b: AppRoute = { deploymentId: "b1", name: "b", upstreams: ["127.0.0.1:2"] };

test("domains loaded at boot are added to every load and upsert (a Caddy restart's reload too)", async () => {
  const { calls, inner } = recorder();
  const routes = new DomainRoutes(inner, [
    { host: "z.example.org", deploymentId: "a1", createdAt: 1 },
    { host: "shop.example.org", deploymentId: "a1", createdAt: 2 },
  ]);
  await routes.load([a, b]);
  await routes.upsert({ ...a, upstreams: ["127.0.0.1:3"] });
  expect(calls).toEqual([
    ["load", [{ ...a, hosts: ["shop.example.org", "z.example.org"] }, b]],
    ["upsert", { ...a, upstreams: ["127.0.0.1:3"], hosts: ["shop.example.org", "z.example.org"] }],
  ]);
});

test("a change of hosts re-applies the deployment's last route at once; none when it has no route", async () => {
  const { calls, inner } = recorder();
  const routes = new DomainRoutes(inner, []);
  await routes.upsert(a);
  await routes.setHosts("a1", ["shop.example.org"]);
  await routes.setHosts("a1", []);
  await routes.remove("a1");
  await routes.setHosts("a1", ["shop.example.org"]); // stopped app: no route comes back
  await routes.setHosts("b1", ["x.example.org"]); // never routed
  expect(calls).toEqual([
    ["upsert", a],
    ["upsert", { ...a, hosts: ["shop.example.org"] }],
    ["upsert", a],
    ["remove", "a1"],
  ]);
  expect(routes.hostsOf("a1")).toEqual(["shop.example.org"]);
});

import { expect, test } from "bun:test";
import type { Deployment } from "../core/deployment.ts";
import type { Domain } from "../core/domains.ts";
import { KilnError, conflict, notFound } from "../core/errors.ts";
import { DomainService } from "./domain-service.ts";

function world(tls: "off" | "internal" | "acme" = "internal") {
  const deployments = [{ id: "d1", name: "shop" }, { id: "d2", name: "blog" }] as Deployment[];
  const domains = new Map<string, Domain>();
  const applied: [string, string[]][] = [];
  const store = {
    deployments: { get: async (id: string) => deployments.find((d) => d.id === id) ?? null, getByName: async (n: string) => deployments.find((d) => d.name === n) ?? null },
    domains: {
      add: async (d: Domain) => {
        const held = domains.get(d.host);
        if (held && held.deploymentId !== d.deploymentId) throw conflict("held");
        if (!held) domains.set(d.host, d);
      },
      get: async (h: string) => domains.get(h) ?? null,
      listFor: async (id: string) => [...domains.values()].filter((d) => d.deploymentId === id),
      all: async () => [...domains.values()],
      remove: async (h: string) => void domains.delete(h),
    },
    pools: { getTenant: async (t: string, w: string) => (t === "t1" && w === "w1" ? { status: "claimed" } : t === "t2" ? { status: "released" } : null) },
  };
  const service = new DomainService({
    store: store as never,
    deployment: async (x) => deployments.find((d) => d.id === x || d.name === x) ?? Promise.reject(notFound(`no deployment ${x}`)),
    routes: { setHosts: async (id, hosts) => void applied.push([id, hosts]) },
    certs: { certificate: async () => null, lastError: async () => null, rootPem: async () => "PEM", logPath: "/x/caddy.log" },
    publicHost: "localhost",
    publicPort: 8080,
    apiHost: "127.0.0.1",
    tls: { mode: tls, httpsPort: 8443 },
    now: () => 1000,
  });
  return { service, applied };
}

const kindOf = async (p: Promise<unknown>) => p.then(() => "ok", (e) => (e instanceof KilnError ? e.kind : String(e)));

test("add attaches, routes follow, and another app gets a conflict naming the holder", async () => {
  const { service, applied } = world();
  const view = await service.add("shop", "Shop.Example.org");
  expect(view).toMatchObject({ host: "shop.example.org", status: "pending", url: "https://shop.example.org:8443/", createdAt: 1000, certificate: null });
  expect(applied).toEqual([["d1", ["shop.example.org"]]]);
  const err = (await service.add("blog", "shop.example.org").catch((e) => e)) as KilnError;
  expect(err.kind).toBe("conflict");
  expect(err.message).toContain("shop");
  expect(await kindOf(service.add("nope", "x.example.org"))).toBe("not_found");
});

test("remove: 404 unless attached to that app; routes follow", async () => {
  const { service, applied } = world();
  await service.add("shop", "shop.example.org");
  expect(await kindOf(service.remove("blog", "shop.example.org"))).toBe("not_found");
  await service.remove("shop", "SHOP.example.org");
  expect(applied.at(-1)).toEqual(["d1", []]);
  expect(await service.list("shop")).toEqual([]);
});

test("ask: attached domains, the public host, existing apps' and claimed tenants' hosts only", async () => {
  const { service } = world();
  await service.add("shop", "shop.example.org");
  const asks = ["shop.example.org", "localhost", "shop.localhost", "blog.localhost", "nope.localhost", "t1.w1.localhost", "t2.w1.localhost", "t3.w1.localhost", "other.example.org"];
  const answers = await Promise.all(asks.map((n) => service.allowed(n)));
  expect(Object.fromEntries(asks.map((n, i) => [n, answers[i]]))).toEqual({
    "shop.example.org": true,
    localhost: true,
    "shop.localhost": true,
    "blog.localhost": true,
    "nope.localhost": false,
    "t1.w1.localhost": true,
    "t2.w1.localhost": false,
    "t3.w1.localhost": false,
    "other.example.org": false,
  });
});

test("TLS off: status http at the plain URL; no root.pem (404 saying why)", async () => {
  const { service } = world("off");
  expect(await service.add("shop", "shop.example.org")).toMatchObject({ status: "http", url: "http://shop.example.org:8080/" });
  const err = (await service.rootPem().catch((e) => e)) as KilnError;
  expect(err.kind).toBe("not_found");
  expect(err.message).toContain("KILN_TLS is off");
  expect(await world("internal").service.rootPem()).toBe("PEM");
});

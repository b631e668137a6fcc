import { describe, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import {
  FALLBACK_BODY,
  NO_TENANT_BODY,
  TENANT_LOOKUP_REFRESH,
  adminListenOf,
  appRoute,
  bootstrapConfig,
  deploymentIdOf,
  ingressServer,
  kilnConfig,
  listenAddress,
  routeId,
} from "./route-json.ts";

const route = { deploymentId: "abc123", name: "web", upstream: "127.0.0.1:40001" };

describe("appRoute", () => {
  const r = appRoute(route, "apps.example.com");

  test("has the app's @id and matches its host, or its /d/<id> path on the public host only", () => {
    expect(r["@id"]).toBe("kiln-app-abc123");
    expect(r.match).toEqual([
      { host: ["web.apps.example.com"] },
      { host: ["apps.example.com"], path: ["/d/abc123", "/d/abc123/*"] },
    ]);
    expect(r.terminal).toBe(true);
  });

  test("the public host is matched lower-cased, like the app's host", () => {
    expect(appRoute(route, "Apps.Example.COM").match).toEqual([
      { host: ["web.apps.example.com"] },
      { host: ["apps.example.com"], path: ["/d/abc123", "/d/abc123/*"] },
    ]);
  });

  test("host requests are proxied as is; path requests get the prefix stripped", () => {
    const sub = (r.handle as { routes: { match?: unknown; handle: Record<string, unknown>[] }[] }[])[0]!;
    const [byHost, byPath] = sub.routes;
    expect(byHost!.match).toEqual([{ host: ["web.apps.example.com"] }]);
    expect(byHost!.handle[0]).toMatchObject({
      handler: "reverse_proxy",
      upstreams: [{ dial: "127.0.0.1:40001" }],
      transport: { protocol: "http", dial_timeout: "3s" },
    });
    expect(byPath!.match).toBeUndefined();
    expect(byPath!.handle[0]).toEqual({ handler: "rewrite", strip_path_prefix: "/d/abc123" });
    expect(byPath!.handle[1]).toMatchObject({
      handler: "reverse_proxy",
      headers: { request: { set: { "X-Forwarded-Prefix": ["/d/abc123"] } } },
    });
  });

  test("rejects ids, names and upstreams that would break matchers", () => {
    expect(() => appRoute({ ...route, deploymentId: "a/b" }, "x")).toThrow(KilnError);
    expect(() => appRoute({ ...route, deploymentId: "a*" }, "x")).toThrow(KilnError);
    expect(() => appRoute({ ...route, name: "Web.evil" }, "x")).toThrow(KilnError);
    expect(() => appRoute({ ...route, upstream: "127.0.0.1" }, "x")).toThrow(KilnError);
    expect(() => appRoute({ ...route, upstream: "http://127.0.0.1:1" }, "x")).toThrow(KilnError);
  });
});

describe("ingressServer", () => {
  test("app routes come before the 404 fallback; https off", () => {
    const s = ingressServer({ publicHost: "localhost", publicPort: 8080 }, [route, { ...route, deploymentId: "def", name: "api" }]);
    const routes = s.routes as Record<string, unknown>[];
    expect(routes.map((r) => r["@id"])).toEqual(["kiln-app-abc123", "kiln-app-def", "kiln-fallback"]);
    expect(routes[2]).toEqual({
      "@id": "kiln-fallback",
      handle: [{ handler: "static_response", status_code: 404, body: FALLBACK_BODY }],
    });
    expect(s.listen).toEqual([":8080"]);
    expect(s.automatic_https).toEqual({ disable: true });
  });

  test("with a tenant resolver: one static route for every tenant host, between the apps and the fallback", () => {
    const s = ingressServer({ publicHost: "Kiln.Test", publicPort: 8080, tenantResolver: "127.0.0.1:5353" }, [route]);
    const routes = s.routes as Record<string, any>[];
    expect(routes.map((r) => r["@id"])).toEqual(["kiln-app-abc123", "kiln-tenants", "kiln-fallback"]);
    const t = routes[1]!;
    expect(t.match).toEqual([{ host: ["*.*.kiln.test"] }]);
    const proxy = t.handle[0];
    // The upstream is looked up per request host, briefly cached, against Kiln's resolver; so is its target.
    expect(proxy.dynamic_upstreams).toMatchObject({ source: "srv", name: "{http.request.host}", refresh: TENANT_LOOKUP_REFRESH, resolver: { addresses: ["udp/127.0.0.1:5353"] } });
    expect(proxy.transport.resolver).toEqual({ addresses: ["udp/127.0.0.1:5353"] });
    expect(proxy.load_balancing.try_duration).toBeTruthy();
    expect((s.errors as any).routes[0]).toEqual({
      match: [{ host: ["*.*.kiln.test"] }],
      handle: [{ handler: "static_response", status_code: "{http.error.status_code}", body: NO_TENANT_BODY }],
    });
    expect(ingressServer({ publicHost: "h", publicPort: 1 }, []).errors).toBeUndefined();
  });

  test("one route per deployment id, the last one wins", () => {
    const s = ingressServer({ publicHost: "localhost", publicPort: 1 }, [route, { ...route, upstream: "127.0.0.1:2" }]);
    const routes = s.routes as Record<string, unknown>[];
    expect(routes).toHaveLength(2);
    expect(JSON.stringify(routes[0])).toContain("127.0.0.1:2");
  });

  test("listen address", () => {
    expect(listenAddress({ publicHost: "h", publicPort: 80 })).toBe(":80");
    expect(listenAddress({ publicHost: "h", publicPort: 80, listenHost: "127.0.0.1" })).toBe("127.0.0.1:80");
    expect(listenAddress({ publicHost: "h", publicPort: 80, listenHost: "::1" })).toBe("[::1]:80");
  });
});

describe("configs", () => {
  test("bootstrap and loaded config carry the same admin block", () => {
    const boot = bootstrapConfig("127.0.0.1:2019");
    expect(boot).toEqual({ admin: { listen: "127.0.0.1:2019", config: { persist: false } } });
    const full = kilnConfig("127.0.0.1:2019", { publicHost: "localhost", publicPort: 80 }, []);
    expect(full.admin).toEqual(boot.admin);
    expect(Object.keys((full.apps as { http: { servers: object } }).http.servers)).toEqual(["kiln"]);
  });

  test("adminListenOf", () => {
    expect(adminListenOf("http://127.0.0.1:2019")).toBe("127.0.0.1:2019");
    expect(adminListenOf("http://localhost:2019/")).toBe("localhost:2019");
    expect(adminListenOf("http://[::1]:2019")).toBe("[::1]:2019");
    expect(() => adminListenOf("unix//run/caddy.sock")).toThrow(KilnError);
    expect(() => adminListenOf("https://127.0.0.1:2019")).toThrow(KilnError);
  });

  test("route ids", () => {
    expect(routeId("x1")).toBe("kiln-app-x1");
    expect(deploymentIdOf("kiln-app-x1")).toBe("x1");
    expect(deploymentIdOf("kiln-fallback")).toBeNull();
    expect(deploymentIdOf("kiln-app-")).toBeNull();
    expect(deploymentIdOf(undefined)).toBeNull();
  });
});

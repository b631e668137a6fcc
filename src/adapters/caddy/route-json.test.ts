import { describe, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import type { AppRoute } from "../../core/ports/routes.ts";
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
  drainRoute,
  healthChecks,
  routeId,
  upstreamsOf,
} from "./route-json.ts";

const route: AppRoute = { deploymentId: "abc123", name: "web", upstreams: ["127.0.0.1:40001"] };

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
    expect(() => appRoute({ ...route, upstreams: ["127.0.0.1"] }, "x")).toThrow(KilnError);
    expect(() => appRoute({ ...route, upstreams: ["http://127.0.0.1:1"] }, "x")).toThrow(KilnError);
    expect(() => appRoute({ ...route, upstreams: ["127.0.0.1:1", "127.0.0.1"] }, "x")).toThrow("want host:port");
  });

  test("1 to 32 distinct upstreams", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `127.0.0.1:${40000 + i}`);
    expect(() => appRoute({ ...route, upstreams: [] }, "x")).toThrow("without upstreams");
    expect(() => appRoute({ ...route, upstreams: undefined as unknown as string[] }, "x")).toThrow("without upstreams");
    expect(() => appRoute({ ...route, upstreams: many(33) }, "x")).toThrow("at most 32");
    expect(() => appRoute({ ...route, upstreams: ["127.0.0.1:1", "127.0.0.1:1"] }, "x")).toThrow("same upstream twice");
    expect(upstreamsOf(appRoute({ ...route, upstreams: many(32) }, "x"))).toEqual(many(32));
  });

  test("every upstream is proxied to, round robin, with retries on another upstream and passive health", () => {
    const r2 = appRoute({ ...route, upstreams: ["127.0.0.1:1", "127.0.0.1:2"] }, "x");
    const sub = (r2.handle as { routes: { handle: Record<string, unknown>[] }[] }[])[0]!;
    const proxies = [sub.routes[0]!.handle[0]!, sub.routes[1]!.handle[1]!];
    for (const p of proxies) {
      expect(p).toMatchObject({
        handler: "reverse_proxy",
        upstreams: [{ dial: "127.0.0.1:1" }, { dial: "127.0.0.1:2" }],
        load_balancing: {
          selection_policy: { policy: "round_robin" },
          try_duration: "5s",
          try_interval: "100ms",
          retry_match: [{ method: ["GET", "HEAD", "OPTIONS"] }],
        },
        health_checks: { passive: { fail_duration: "3s", max_fails: 1 } },
      });
      expect((p.health_checks as Record<string, unknown>).active).toBeUndefined();
    }
    expect(sub.routes).toHaveLength(2);
  });

  test("health adds Caddy's active health check", () => {
    expect(healthChecks({ path: "/healthz?x=1", intervalMs: 1500, timeoutMs: 300, expectStatus: 204 }).active).toEqual({
      uri: "/healthz?x=1",
      interval: "1500ms",
      timeout: "300ms",
      expect_status: 204,
    });
    expect(healthChecks({ path: "/h", intervalMs: 1000, timeoutMs: 500 }).active).toEqual({ uri: "/h", interval: "1000ms", timeout: "500ms" });
    const bad = (health: AppRoute["health"]) => () => appRoute({ ...route, health }, "x");
    expect(bad({ path: "healthz", intervalMs: 1000, timeoutMs: 500 })).toThrow("health path");
    expect(bad({ path: "/{http.request.host}", intervalMs: 1000, timeoutMs: 500 })).toThrow("health path");
    expect(bad({ path: "/h", intervalMs: 0, timeoutMs: 500 })).toThrow("intervalMs");
    expect(bad({ path: "/h", intervalMs: 1000, timeoutMs: 1.5 })).toThrow("timeoutMs");
    expect(bad({ path: "/h", intervalMs: 1000, timeoutMs: 500, expectStatus: 99 })).toThrow("expectStatus");
  });

  test("switched-out upstreams stay named in a handler no request reaches", () => {
    const r2 = appRoute(route, "x", ["127.0.0.1:9", "127.0.0.1:40001"]);
    const sub = (r2.handle as { routes: Record<string, any>[] }[])[0]!;
    expect(sub.routes).toHaveLength(3);
    expect(sub.routes[0]!.terminal).toBe(true);
    expect(sub.routes[1]!.terminal).toBe(true);
    expect(sub.routes[2]).toEqual({
      match: [{ expression: "false" }],
      handle: [{ handler: "reverse_proxy", upstreams: [{ dial: "127.0.0.1:9" }], transport: { protocol: "http", dial_timeout: "3s" } }],
    });
    expect(upstreamsOf(r2)).toEqual(["127.0.0.1:40001"]);
    const d = drainRoute("abc123", ["127.0.0.1:9"]);
    expect(d["@id"]).toBe("kiln-drain-abc123");
    expect(d.match).toEqual([{ expression: "false" }]);
    expect(deploymentIdOf(d["@id"])).toBeNull();
    expect(upstreamsOf({})).toEqual([]);
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
    const s = ingressServer({ publicHost: "localhost", publicPort: 1 }, [route, { ...route, upstreams: ["127.0.0.1:2"] }]);
    const routes = s.routes as Record<string, unknown>[];
    expect(routes).toHaveLength(2);
    expect(JSON.stringify(routes[0])).toContain("127.0.0.1:2");
  });

  test("drain routes for deployments without an app route come after the apps", () => {
    const drains = new Map([["abc123", ["127.0.0.1:7"]], ["gone", ["127.0.0.1:8"]], ["idle", []]]);
    const s = ingressServer({ publicHost: "localhost", publicPort: 1 }, [route], drains);
    const routes = s.routes as Record<string, unknown>[];
    expect(routes.map((r) => r["@id"])).toEqual(["kiln-app-abc123", "kiln-drain-gone", "kiln-fallback"]);
    expect(JSON.stringify(routes[0])).toContain("127.0.0.1:7");
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

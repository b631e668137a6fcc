import { describe, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import type { AppRoute } from "../../core/ports/routes.ts";
import { FALLBACK_ID, HOOKS_ID, appRoute, firstAppIndex, ingressServer, kilnConfig, loopbackAddress, redirectRoute } from "./route-json.ts";

const route: AppRoute = { deploymentId: "abc123", name: "web", upstreams: ["127.0.0.1:40001"] };
const base = { publicHost: "apps.example.com", publicPort: 80, listenHost: undefined };
const ids = (server: Record<string, unknown>) => (server.routes as Record<string, unknown>[]).map((r) => r["@id"]);

describe("an app's own domains", () => {
  test("are matched besides <name>.<publicHost>, on the host form only (never /d/<id>)", () => {
    const r = appRoute({ ...route, hosts: ["shop.example.org", "www.shop.example.org"] }, "apps.example.com");
    const hosts = ["web.apps.example.com", "shop.example.org", "www.shop.example.org"];
    expect(r.match).toEqual([{ host: hosts }, { host: ["apps.example.com"], path: ["/d/abc123", "/d/abc123/*"] }]);
    const sub = (r.handle as { routes: { match?: unknown }[] }[])[0]!;
    expect(sub.routes[0]!.match).toEqual([{ host: hosts }]);
  });

  test("a host that is not a lowercase DNS name is refused", () => {
    for (const h of ["Shop.example.org", "*.example.org", "a b", "", "x".repeat(64) + ".org", "1.2.3.4:80"]) {
      expect(() => appRoute({ ...route, hosts: [h] }, "x")).toThrow(KilnError);
    }
  });
});

describe("the hooks route", () => {
  test("comes first, on any host, and sends /_kiln/hooks/* to the API's /api/v1/hooks/*", () => {
    const server = ingressServer({ ...base, api: "127.0.0.1:4000" }, [route]);
    expect(ids(server)).toEqual([HOOKS_ID, "kiln-app-abc123", FALLBACK_ID]);
    expect((server.routes as unknown[])[0]).toEqual({
      "@id": "kiln-hooks",
      match: [{ path: ["/_kiln/hooks/*"] }],
      handle: [
        { handler: "rewrite", path_regexp: [{ find: "^/_kiln/hooks/", replace: "/api/v1/hooks/" }] },
        { handler: "reverse_proxy", upstreams: [{ dial: "127.0.0.1:4000" }], transport: { protocol: "http", dial_timeout: "3s" } },
      ],
      terminal: true,
    });
    expect(firstAppIndex({ ...base, api: "127.0.0.1:4000" })).toBe(1);
  });

  test("without an API address there is none, and TLS off is today's single HTTP server", () => {
    const config = kilnConfig("127.0.0.1:2019", { ...base, tls: { mode: "off", httpsPort: 443 } }, [route]);
    expect(config.apps).toEqual({ http: { servers: { kiln: ingressServer(base, [route]) } } });
    expect(ids(ingressServer(base, [route]))).toEqual(["kiln-app-abc123", FALLBACK_ID]);
    expect(firstAppIndex(base)).toBe(0);
  });
});

describe("TLS on", () => {
  test("plain HTTP redirects (308) to the same host, path and query; the port only when not 443", () => {
    expect(redirectRoute(443)).toEqual({
      "@id": "kiln-https-redirect",
      handle: [{ handler: "static_response", status_code: 308, headers: { Location: ["https://{http.request.host}{http.request.uri}"] } }],
    });
    expect((redirectRoute(8443).handle as { headers: { Location: string[] } }[])[0]!.headers.Location).toEqual(["https://{http.request.host}:8443{http.request.uri}"]);
  });

  test("internal: the routes move to the HTTPS port; Caddy's own CA, on demand, never in the system trust store", () => {
    const opts = { ...base, publicPort: 8080, listenHost: "127.0.0.1", api: "127.0.0.1:4000", tls: { mode: "internal" as const, httpsPort: 8443 } };
    const apps = kilnConfig("127.0.0.1:2019", opts, [route]).apps as Record<string, any>;
    expect(apps.http.servers.kiln.listen).toEqual(["127.0.0.1:8443"]);
    expect(apps.http.servers.kiln.tls_connection_policies).toEqual([{}]);
    expect(ids(apps.http.servers.kiln)).toEqual([HOOKS_ID, "kiln-app-abc123", FALLBACK_ID]);
    expect(apps.http.servers["kiln-http"].listen).toEqual(["127.0.0.1:8080"]);
    expect(apps.tls.automation.policies).toEqual([{ issuers: [{ module: "internal" }], on_demand: true }]);
    expect(apps.pki).toEqual({ certificate_authorities: { local: { install_trust: false } } });
  });

  test("without the API's address (no ask check) TLS is refused", () => {
    expect(() => kilnConfig("127.0.0.1:2019", { ...base, tls: { mode: "internal", httpsPort: 443 } }, [route])).toThrow(KilnError);
  });

  test("HTTPS and plain HTTP on the same port are refused, naming both settings", () => {
    const opts = { ...base, publicPort: 8443, api: "127.0.0.1:4000", tls: { mode: "internal" as const, httpsPort: 8443 } };
    expect(() => kilnConfig("127.0.0.1:2019", opts, [])).toThrow(/KILN_HTTPS_PORT and KILN_PUBLIC_PORT/);
  });

  test("acme: the exact config", () => {
    const opts = {
      publicHost: "apps.example.com",
      publicPort: 80,
      api: "127.0.0.1:4000",
      tls: { mode: "acme" as const, httpsPort: 443, acmeEmail: "ops@example.com", acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory" },
    };
    const app = appRoute({ ...route, hosts: ["shop.example.org"] }, "apps.example.com");
    expect(kilnConfig("127.0.0.1:2019", opts, [{ ...route, hosts: ["shop.example.org"] }])).toEqual({
      admin: { listen: "127.0.0.1:2019", config: { persist: false } },
      apps: {
        http: {
          servers: {
            kiln: {
              listen: [":443"],
              routes: [
                {
                  "@id": "kiln-hooks",
                  match: [{ path: ["/_kiln/hooks/*"] }],
                  handle: [
                    { handler: "rewrite", path_regexp: [{ find: "^/_kiln/hooks/", replace: "/api/v1/hooks/" }] },
                    { handler: "reverse_proxy", upstreams: [{ dial: "127.0.0.1:4000" }], transport: { protocol: "http", dial_timeout: "3s" } },
                  ],
                  terminal: true,
                },
                app,
                { "@id": "kiln-fallback", handle: [{ handler: "static_response", status_code: 404, body: "no app is deployed at this address\n" }] },
              ],
              tls_connection_policies: [{}],
              automatic_https: { disable: true },
            },
            "kiln-http": {
              listen: [":80"],
              routes: [
                {
                  "@id": "kiln-https-redirect",
                  handle: [{ handler: "static_response", status_code: 308, headers: { Location: ["https://{http.request.host}{http.request.uri}"] } }],
                },
              ],
              automatic_https: { disable: true },
            },
          },
        },
        tls: {
          automation: {
            policies: [
              {
                issuers: [
                  {
                    module: "acme",
                    ca: "https://acme-staging-v02.api.letsencrypt.org/directory",
                    email: "ops@example.com",
                    challenges: { http: { alternate_port: 80 }, "tls-alpn": { alternate_port: 443 } },
                  },
                ],
                on_demand: true,
              },
            ],
            on_demand: { ask: "http://127.0.0.1:4000/api/v1/tls/ask" },
          },
        },
      },
    });
  });

  test("acme without email or CA: Caddy's default CA (Let's Encrypt), no contact", () => {
    const opts = { ...base, api: "127.0.0.1:4000", tls: { mode: "acme" as const, httpsPort: 443 } };
    const apps = kilnConfig("127.0.0.1:2019", opts, []).apps as Record<string, any>;
    expect(apps.tls.automation.policies[0].issuers).toEqual([
      { module: "acme", challenges: { http: { alternate_port: 80 }, "tls-alpn": { alternate_port: 443 } } },
    ]);
    expect(apps.pki).toBeUndefined();
  });
});

test("loopbackAddress: a wildcard bind is reached on loopback", () => {
  expect(loopbackAddress("127.0.0.1", 4000)).toBe("127.0.0.1:4000");
  expect(loopbackAddress("0.0.0.0", 4000)).toBe("127.0.0.1:4000");
  expect(loopbackAddress("::", 4000)).toBe("[::1]:4000");
  expect(loopbackAddress("::1", 4000)).toBe("[::1]:4000");
});

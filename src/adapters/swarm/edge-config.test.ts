import { expect, test } from "bun:test";
import { edgeConfig, edgeRoute, parseTasksUpstream } from "./edge-config.ts";

test("an edge route: the app's hosts, or the public host with its /d/<id> prefix header, to tasks.<service> from Swarm's DNS", () => {
  expect(edgeRoute({ deploymentId: "d1", hosts: ["web.localhost", "web.example.com"], service: "kiln-web-d1", port: 3000 }, "localhost")).toEqual({
    "@id": "kiln-edge-d1",
    match: [{ host: ["web.localhost", "web.example.com"] }, { host: ["localhost"], header: { "X-Forwarded-Prefix": ["/d/d1"] } }],
    handle: [
      {
        handler: "reverse_proxy",
        dynamic_upstreams: { source: "a", name: "tasks.kiln-web-d1", port: "3000", refresh: "1s" },
        load_balancing: { selection_policy: { policy: "round_robin" }, try_duration: "5s", try_interval: "100ms", retry_match: [{ method: ["GET", "HEAD", "OPTIONS"] }] },
        health_checks: { passive: { fail_duration: "3s", max_fails: 1 } },
        transport: { protocol: "http", dial_timeout: "3s" },
        trusted_proxies: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"],
      },
    ],
    terminal: true,
  });
});

test("the edge's config: admin on a unix socket only, one server, app routes then a 502 fallback", () => {
  const cfg = edgeConfig([{ deploymentId: "d1", hosts: ["a.localhost"], service: "kiln-a-d1", port: 80 }], "localhost") as any;
  expect(cfg.admin).toEqual({ listen: "unix//run/kiln-edge/admin.sock", origins: ["kiln-edge"], config: { persist: false } });
  const server = cfg.apps.http.servers.edge;
  expect(server.listen).toEqual([":8080"]);
  expect(server.routes.map((r: any) => r["@id"] ?? "fallback")).toEqual(["kiln-edge-d1", "fallback"]);
  expect(server.routes[1].handle[0]).toMatchObject({ handler: "static_response", status_code: 502 });
});

test("a Swarm upstream parses back to its service and port; anything else is not one", () => {
  expect(parseTasksUpstream("tasks.kiln-web-d1:3000")).toEqual({ service: "kiln-web-d1", port: 3000 });
  expect(parseTasksUpstream("127.0.0.1:3000")).toBeNull();
  expect(parseTasksUpstream("tasks.x:")).toBeNull();
});

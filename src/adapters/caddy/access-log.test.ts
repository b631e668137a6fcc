import { describe, expect, test } from "bun:test";
import { accessEntryOf, listenForAccessLog } from "./access-log.ts";
import { accessLogging } from "./access-log-json.ts";
import { kilnConfig } from "./route-json.ts";
import type { AccessEntry } from "../../stats/request-window.ts";

const LINE = JSON.stringify({ logger: "http.log.access", request: { host: "a.localhost:8080", uri: "/d/x?y" }, duration: 0.0125, status: 404 });

describe("Caddy access log", () => {
  test("a 2.6 JSON line → host, uri, status, duration in ms; anything else → null", () => {
    expect(accessEntryOf(LINE)).toEqual({ host: "a.localhost:8080", uri: "/d/x?y", status: 404, durationMs: 12.5 });
    expect(accessEntryOf("not json")).toBeNull();
    expect(accessEntryOf(JSON.stringify({ msg: "server running" }))).toBeNull();
  });

  test("the listener reads lines split across writes, from several connections", async () => {
    const got: AccessEntry[] = [];
    const listener = listenForAccessLog((e) => got.push(e));
    try {
      const [host, port] = listener.address.split(":") as [string, string];
      for (let c = 0; c < 2; c++) {
        const sock = await Bun.connect({ hostname: host, port: Number(port), socket: { data() {} } });
        sock.write(`${LINE}\n${LINE.slice(0, 20)}`);
        await Bun.sleep(20);
        sock.write(`${LINE.slice(20)}\nnoise\n`);
        await Bun.sleep(20);
        sock.end();
      }
      const deadline = Date.now() + 2000;
      while (got.length < 4 && Date.now() < deadline) await Bun.sleep(10);
      expect(got.length).toBe(4);
      expect(got.every((e) => e.status === 404)).toBe(true);
    } finally {
      listener.stop();
    }
  });

  test("config: the ingress server logs, to Kiln over TCP, and Caddy's own log leaves access lines out", () => {
    const opts = { publicHost: "localhost", publicPort: 8080, accessLog: "127.0.0.1:5555" };
    const config = kilnConfig("127.0.0.1:2019", opts, []) as { logging: unknown; apps: { http: { servers: { kiln: { logs?: unknown } } } } };
    expect(config.logging).toEqual(accessLogging("127.0.0.1:5555"));
    const logs = (config.logging as { logs: Record<string, { writer?: unknown; include?: unknown; exclude?: unknown; encoder?: { format: string; wrap: unknown; fields: Record<string, unknown> } }> }).logs;
    expect(logs.default).toEqual({ exclude: ["http.log.access"] });
    const access = logs["kiln-access"]!;
    expect(access.writer).toEqual({ output: "net", address: "127.0.0.1:5555" });
    expect(access.include).toEqual(["http.log.access"]);
    expect(access.encoder!.format).toBe("filter");
    expect(access.encoder!.wrap).toEqual({ format: "json" });
    // No query string, header, client address or user leaves Caddy this way.
    expect(access.encoder!.fields["request>uri"]).toEqual({ filter: "regexp", regexp: "\\?.*$", value: "" });
    for (const f of ["request>headers", "request>remote_ip", "request>remote_port", "request>tls", "user_id", "resp_headers"]) expect(access.encoder!.fields[f]).toEqual({ filter: "delete" });
    expect(config.apps.http.servers.kiln.logs).toEqual({});
    const without = kilnConfig("127.0.0.1:2019", { publicHost: "localhost", publicPort: 8080 }, []) as Record<string, unknown>;
    expect("logging" in without).toBe(false);
  });
});

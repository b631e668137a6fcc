/** The tenant resolver over real UDP, asked by a stock DNS client (c-ares through node:dns). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Resolver } from "node:dns/promises";
import { startDnsServer, type DnsServer } from "../adapters/dns/server.ts";
import { TenantResolver } from "./tenant-resolver.ts";

const endpoints = new Map<string, string>([
  ["echo/a", "127.0.0.1:40123"],
  ["echo/remote", "10.0.0.5:80"], // never routed: not loopback
]);
const resolver = new TenantResolver({ endpointOfTenant: async (w, t) => endpoints.get(`${w}/${t}`) ?? null }, "Kiln.Localhost");
let server: DnsServer;
let client: Resolver;

beforeAll(async () => {
  server = await startDnsServer({ hostname: "127.0.0.1", port: 0, answerer: resolver });
  client = new Resolver({ timeout: 2000, tries: 1 });
  client.setServers([server.address]);
});
afterAll(() => server.stop());

test("a claimed tenant's host answers SRV: its member's port at a loopback name, which answers A", async () => {
  const srv = await client.resolveSrv("a.echo.kiln.localhost");
  expect(srv).toEqual([{ name: "127-0-0-1.ip.kiln", port: 40123, priority: 0, weight: 0 }]);
  expect(await client.resolve4("127-0-0-1.ip.kiln")).toEqual(["127.0.0.1"]);
  expect(await client.resolveSrv("A.ECHO.kiln.localhost")).toHaveLength(1); // hosts are case-insensitive
});

test("unknown tenants, non-loopback endpoints and names outside Kiln's zones get no answer", async () => {
  await expect(client.resolveSrv("b.echo.kiln.localhost")).rejects.toMatchObject({ code: "ENOTFOUND" });
  await expect(client.resolveSrv("remote.echo.kiln.localhost")).rejects.toMatchObject({ code: "ENOTFOUND" });
  await expect(client.resolveSrv("x.a.echo.kiln.localhost")).rejects.toMatchObject({ code: "EREFUSED" });
  await expect(client.resolveSrv("example.com")).rejects.toMatchObject({ code: "EREFUSED" });
  await expect(client.resolve4("10-0-0-1.ip.kiln")).rejects.toMatchObject({ code: "EREFUSED" });
});

test("tenantOf only accepts <tenant>.<workload> under the public host", () => {
  expect(resolver.tenantOf("a.echo.kiln.localhost")).toEqual({ tenantId: "a", workloadId: "echo" });
  expect(resolver.tenantOf("echo.kiln.localhost")).toBeNull();
  expect(resolver.tenantOf("-a.echo.kiln.localhost")).toBeNull();
  expect(resolver.tenantOf("a.echo.otherkiln.localhost")).toBeNull();
});

test("a malformed packet gets FORMERR, and the server keeps answering", async () => {
  const sock = await Bun.udpSocket({
    socket: {
      data(_s, data) {
        replies.push(new Uint8Array(data));
      },
    },
  });
  const replies: Uint8Array[] = [];
  sock.send(new Uint8Array([0xab, 0xcd, 0, 0, 0, 9]), server.port, "127.0.0.1");
  for (let i = 0; i < 1000 && replies.length === 0; i++) await Bun.sleep(10); // at most 10 s: a loaded machine
  sock.close();
  expect(replies[0]?.[0]).toBe(0xab);
  expect(replies[0]![3]! & 0xf).toBe(1);
  expect(await client.resolveSrv("a.echo.kiln.localhost")).toHaveLength(1);
});

import { expect, test } from "bun:test";
import type { DomainService } from "../../domains/domain-service.ts";
import { domainRoutes } from "./domains.ts";

const fake = { allowed: async (n: string) => n === "shop.example.org" } as unknown as DomainService;
const peer = (address: string) => ({ requestIP: () => ({ address, family: "IPv4", port: 1 }) });

test("the ask check answers loopback peers only: 200 for a name Kiln serves, 404 otherwise", async () => {
  const app = domainRoutes(fake);
  expect((await app.request("/tls/ask?domain=shop.example.org", {}, peer("127.0.0.1"))).status).toBe(200);
  expect((await app.request("/tls/ask?domain=shop.example.org", {}, peer("::1"))).status).toBe(200);
  expect((await app.request("/tls/ask?domain=evil.example.org", {}, peer("127.0.0.1"))).status).toBe(404);
  expect((await app.request("/tls/ask?domain=shop.example.org", {}, peer("192.168.1.5"))).status).toBe(403);
  expect((await app.request("/tls/ask?domain=shop.example.org")).status).toBe(403);
  expect((await app.request("/tls/ask", {}, peer("127.0.0.1"))).status).toBe(400);
});

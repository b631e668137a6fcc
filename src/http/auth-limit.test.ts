import { expect, test } from "bun:test";
import { Hono } from "hono";
import { FailureLimiter, limiterKey } from "./auth-limit.ts";
import { requireToken } from "./auth.ts";

const clock = (start = 1_000_000) => {
  const c = { t: start, now: () => c.t };
  return c;
};

test("after maxFailures in a window an address waits until the window ends; then it starts afresh", () => {
  const c = clock();
  const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000 }, c.now);
  for (let i = 0; i < 3; i++) {
    expect(l.retryAfter("10.0.0.1")).toBe(0);
    l.fail("10.0.0.1");
    c.t += 1000;
  }
  expect(l.retryAfter("10.0.0.1")).toBe(57); // the window began at the first failure
  expect(l.retryAfter("10.0.0.2")).toBe(0); // others are not affected
  c.t += 56_500;
  expect(l.retryAfter("10.0.0.1")).toBe(1);
  c.t += 500;
  expect(l.retryAfter("10.0.0.1")).toBe(0);
  l.fail("10.0.0.1");
  expect(l.retryAfter("10.0.0.1")).toBe(0);
});

test("memory is bounded: past maxAddresses the least recently failing address is dropped", () => {
  const l = new FailureLimiter({ maxFailures: 1, windowMs: 60_000, maxAddresses: 3 }, clock().now);
  for (const a of ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) l.fail(a);
  l.fail("1.1.1.1"); // most recent again
  l.fail("4.4.4.4");
  expect(l.size).toBe(3);
  expect(l.retryAfter("2.2.2.2")).toBe(0); // dropped
  expect(l.retryAfter("1.1.1.1")).toBeGreaterThan(0);
  expect(l.retryAfter("4.4.4.4")).toBeGreaterThan(0);
});

test("limiterKey: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64", () => {
  expect(limiterKey("127.0.0.1")).toBe("127.0.0.1");
  expect(limiterKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
  expect(limiterKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(limiterKey("2001:0db8:0000:0000:ffff::2")).toBe("2001:db8:0:0::/64");
  expect(limiterKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  expect(limiterKey("::1")).toBe("0:0:0:0::/64");
  expect(limiterKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  expect(limiterKey("unknown")).toBe("unknown");
});

test("requireToken: wrong or missing tokens count; past the limit 429 with Retry-After; the right token always passes", async () => {
  const app = new Hono();
  app.use("*", requireToken("t".repeat(32), ["/open"], new FailureLimiter({ maxFailures: 2, windowMs: 60_000 })));
  app.get("/x", (c) => c.text("ok"));
  app.get("/open", (c) => c.text("open"));
  const get = (path: string, token?: string) => app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect((await get("/x")).status).toBe(401);
  expect((await get("/x", "wrong")).status).toBe(401);
  const limited = await get("/x", "wrong");
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await limited.json()) as { error: { kind: string; message: string } }).error).toMatchObject({ kind: "rate_limited", message: expect.stringContaining("too many failed authentication attempts") });
  expect((await get("/x")).status).toBe(429);
  expect((await get("/x", "t".repeat(32))).status).toBe(200);
  expect((await get("/open")).status).toBe(200);
});

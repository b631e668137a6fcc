/**
 * The limit on failed authentication, against a real Kiln over TCP: after AUTH_FAILURE_LIMIT.maxFailures
 * wrong or missing tokens from one address, the next gets 429 with Retry-After (also a WebSocket
 * upgrade with a wrong ?token=), while the right token still works from that same address, and
 * another address is not affected.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { AUTH_FAILURE_LIMIT } from "../../src/http/auth-limit.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(async () => {
  await kiln?.stop();
});

/** One raw HTTP/1.1 request from `localAddress`; the status, headers and body of the answer. */
function request(path: string, headers: Record<string, string>, localAddress = "127.0.0.1"): Promise<{ status: number; head: string; body: string }> {
  const url = new URL(kiln.apiUrl);
  return new Promise((resolve, reject) => {
    let buf = "";
    const sock = connect({ port: Number(url.port), host: url.hostname, localAddress }, () => {
      const lines = Object.entries({ Host: url.host, Connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
      sock.write(`GET ${path} HTTP/1.1\r\n${lines.join("")}\r\n`);
    });
    const done = () => {
      const at = buf.indexOf("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1] ?? 0), head: buf.slice(0, at), body: buf.slice(at + 4) });
      sock.destroy();
    };
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.startsWith("HTTP/1.1 101")) return done(); // an upgraded WebSocket stays open
      const at = buf.indexOf("\r\n\r\n");
      const length = Number(/^content-length: *(\d+)/im.exec(buf.slice(0, at))?.[1] ?? -1);
      if (at >= 0 && length >= 0 && Buffer.byteLength(buf.slice(at + 4)) >= length) done(); // the whole answer, even on a kept-alive connection
    });
    sock.on("end", done);
    sock.on("error", reject);
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const ws = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" };

test(`after ${AUTH_FAILURE_LIMIT.maxFailures} failed attempts the next gets 429 with Retry-After; the right token still works`, async () => {
  const wrong = "w".repeat(kiln.token.length);
  for (let i = 0; i < AUTH_FAILURE_LIMIT.maxFailures; i++) {
    const res = await request("/api/v1/deployments", i % 2 ? bearer(wrong) : {});
    expect(res.status).toBe(401);
  }

  const limited = await request("/api/v1/deployments", bearer(wrong));
  expect(limited.status).toBe(429);
  const retryAfter = Number(/^retry-after: *(\d+)/im.exec(limited.head)?.[1]);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(AUTH_FAILURE_LIMIT.windowMs / 1000);
  const err = JSON.parse(limited.body).error;
  expect(err.kind).toBe("rate_limited");
  expect(err.message).toContain("too many failed authentication attempts from 127.0.0.1");
  expect(err.message).not.toContain(kiln.token);
  expect((await request("/api/v1/deployments", {})).status).toBe(429); // a missing token too

  // The right token from the same address is never limited.
  const ok = await request("/api/v1/deployments", bearer(kiln.token));
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body)).toEqual({ deployments: [] });

  // The WebSocket log route: a wrong ?token= is limited too; the right one upgrades.
  const dep = await kiln.api("/deployments", { method: "POST", body: JSON.stringify({ gitUrl: "git://127.0.0.1:9/none.git", name: "ws-limit" }), headers: { "content-type": "application/json" } });
  const { id } = (await dep.json()) as { id: string };
  expect((await request(`/api/v1/deployments/${id}/logs?token=${wrong}`, ws)).status).toBe(429);
  expect((await request(`/api/v1/deployments/${id}/logs?token=${kiln.token}`, ws)).status).toBe(101);

  // Public routes need no token and are not limited.
  expect((await request("/api/v1/openapi.json", {})).status).toBe(200);
});

test("another client address is counted on its own", async () => {
  const res = await request("/api/v1/deployments", bearer("nope"), "127.0.0.2");
  expect(res.status).toBe(401);
  expect(JSON.parse(res.body).error.message).toBe("the API token is wrong");
});

/**
 * Caddy's access log to Kiln against a real Caddy 2.6: with `accessLog` set, every request on the
 * ingress server arrives at the loopback listener as one JSON line with host, path, status and
 * duration — and without the query string, headers (cookies, authorization), client address or
 * user; Caddy's own log (caddy.log) gets none of them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CaddyRouteTable } from "../../src/adapters/caddy/route-table.ts";
import { CaddySupervisor } from "../../src/adapters/caddy/supervisor.ts";
import { accessEntryOf } from "../../src/adapters/caddy/access-log.ts";
import { freePort } from "../helpers/ports.ts";
import { backend, type Backend } from "./caddy-fixture.ts";

const SECRET = "s3cret-in-the-query";
const COOKIE = "session=c00kie-value";
let dataDir: string;
let supervisor: CaddySupervisor;
let table: CaddyRouteTable;
let publicPort: number;
let app: Backend;
const lines: string[] = [];
let listener: TCPSocketListener<{ buf: string }>;

beforeAll(async () => {
  listener = Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: (s) => void (s.data = { buf: "" }),
      data(s, chunk) {
        s.data.buf += new TextDecoder().decode(chunk);
        let i: number;
        while ((i = s.data.buf.indexOf("\n")) >= 0) {
          lines.push(s.data.buf.slice(0, i));
          s.data.buf = s.data.buf.slice(i + 1);
        }
      },
    },
  });
  dataDir = await mkdtemp(join(tmpdir(), "kiln-caddy-access-"));
  const adminUrl = `http://127.0.0.1:${freePort()}`;
  publicPort = freePort();
  supervisor = new CaddySupervisor({ adminUrl, dataDir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, log: () => {} });
  await supervisor.ensureRunning();
  table = new CaddyRouteTable({ adminUrl, publicHost: "localhost", publicPort, listenHost: "127.0.0.1", accessLog: `127.0.0.1:${listener.port}` });
  await table.load([]);
  app = backend("logged");
  await table.upsert({ deploymentId: "logged01", name: "logged", upstreams: [app.address] }); // the fast path: a PUT after the load
});

afterAll(async () => {
  app?.server.stop(true);
  await supervisor?.stop();
  listener?.stop(true);
  await rm(dataDir, { recursive: true, force: true });
});

test("each request arrives as one line: host, path, status, duration; no query, headers, address or user", async () => {
  const get = (host: string, path: string) =>
    fetch(`http://127.0.0.1:${publicPort}${path}`, { headers: { host, cookie: COOKIE, authorization: `Bearer ${SECRET}` } }).then((r) => r.arrayBuffer().then(() => r.status));
  expect(await get("logged.localhost", `/a/b?token=${SECRET}`)).toBe(200);
  expect(await get(`localhost:${publicPort}`, `/d/logged01/c?x=${SECRET}`)).toBe(200);
  expect(await get("nobody.localhost", "/")).toBe(404);
  const deadline = Date.now() + 5000;
  while (lines.length < 3 && Date.now() < deadline) await Bun.sleep(20);
  expect(lines.length).toBe(3);
  const entries = lines.map(accessEntryOf);
  expect(entries.map((e) => e && { host: e.host, uri: e.uri, status: e.status })).toEqual([
    { host: "logged.localhost", uri: "/a/b", status: 200 },
    { host: `localhost:${publicPort}`, uri: "/d/logged01/c", status: 200 },
    { host: "nobody.localhost", uri: "/", status: 404 },
  ]);
  for (const e of entries) expect(e!.durationMs).toBeGreaterThanOrEqual(0);
  for (const line of lines) {
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain("c00kie");
    expect(line).not.toContain("127.0.0.1");
    expect(Object.keys((JSON.parse(line) as { request: object }).request).sort()).toEqual(["host", "method", "proto", "uri"]);
  }
  // Caddy's own output does not get access lines.
  const own = await readFile(supervisor.logPath, "utf8");
  expect(own).not.toContain("handled request");
}, 30_000);

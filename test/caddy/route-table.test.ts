/**
 * CaddyRouteTable and CaddySupervisor against a real Caddy (the `caddy` binary on PATH),
 * started by the supervisor on free loopback ports.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { CaddyRouteTable } from "../../src/adapters/caddy/route-table.ts";
import { CaddySupervisor } from "../../src/adapters/caddy/supervisor.ts";
import type { AppRoute } from "../../src/core/ports/routes.ts";
import { until } from "../helpers/wait.ts";

/** Caddy's whole environment (Kiln passes config.childEnv). */
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** An upstream app that echoes who it is and what path it saw. */
function upstream(label: string): Server<undefined> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      return Response.json({
        app: label,
        path: url.pathname + url.search,
        forwardedPrefix: req.headers.get("x-forwarded-prefix"),
        forwardedFor: req.headers.get("x-forwarded-for"),
      });
    },
  });
}

let dataDir: string;
let adminUrl: string;
let publicPort: number;
let supervisor: CaddySupervisor;
let table: CaddyRouteTable;
let restarts = 0;
/** What the supervisor said: it announces each restart ("…; restarting") when it sees Caddy exit. */
const supervisorLog: string[] = [];
const apps: Server<undefined>[] = [];
let alpha: AppRoute;
let beta: AppRoute;

const base = () => `http://127.0.0.1:${publicPort}`;

async function viaHost(name: string, path = "/"): Promise<Response> {
  return fetch(base() + path, { headers: { host: `${name}.localhost` } });
}

/** A request with the public host itself (`localhost`, the table's publicHost) as Host, where /d/<id> paths answer. */
async function viaPublicHost(path: string, host = "localhost"): Promise<Response> {
  return fetch(base() + path, { headers: { host } });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "kiln-caddy-test-"));
  adminUrl = `http://127.0.0.1:${await freePort()}`;
  publicPort = await freePort();
  supervisor = new CaddySupervisor({
    adminUrl,
    dataDir,
    env,
    log: (line) => supervisorLog.push(line),
    backoff: { initialMs: 100, maxMs: 1000 },
    onRestart: () => {
      restarts++;
    },
  });
  table = new CaddyRouteTable({ adminUrl, publicHost: "localhost", publicPort, listenHost: "127.0.0.1" });
  const a = upstream("alpha");
  const b = upstream("beta");
  apps.push(a, b);
  alpha = { deploymentId: "aaaa1111", name: "alpha", upstreams: [`127.0.0.1:${a.port}`] };
  beta = { deploymentId: "bbbb2222", name: "beta", upstreams: [`127.0.0.1:${b.port}`] };
  expect(await supervisor.ensureRunning()).toBe("started");
  await table.load([]);
});

afterAll(async () => {
  await supervisor?.stop();
  for (const a of apps) a.stop(true);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test("ensureRunning twice does not start a second caddy", async () => {
  const pid = supervisor.pid;
  expect(pid).not.toBeNull();
  const [r1, r2] = await Promise.all([supervisor.ensureRunning(), supervisor.ensureRunning()]);
  expect(r1).toBe("running");
  expect(r2).toBe("running");
  expect(supervisor.pid).toBe(pid);
  expect(await table.healthy()).toBe(true);
});

test("a supervisor of another data dir finds the running caddy and leaves it alone", async () => {
  // (A supervisor of the same data dir adopts it: a restarted Kiln; see src/adapters/caddy/supervisor.test.ts.)
  const otherDir = await mkdtemp(join(tmpdir(), "kiln-caddy-other-"));
  try {
    const other = new CaddySupervisor({ adminUrl, dataDir: otherDir, env, log: () => {} });
    expect(await other.ensureRunning()).toBe("external");
    expect(other.pid).toBeNull();
    await other.stop();
    expect(await table.healthy()).toBe(true);
  } finally {
    await rm(otherDir, { recursive: true, force: true });
  }
});

test("upserted routes answer by subdomain and by path", async () => {
  await Promise.all([table.upsert(alpha), table.upsert(beta)]);

  const a = await viaHost("alpha", "/x?q=1");
  expect(a.status).toBe(200);
  expect(await a.json()).toMatchObject({ app: "alpha", path: "/x?q=1", forwardedPrefix: null });
  expect(await (await viaHost("beta")).json()).toMatchObject({ app: "beta", path: "/" });

  const b = await viaPublicHost(`/d/${beta.deploymentId}/hello`);
  expect(b.status).toBe(200);
  expect(await b.json()).toMatchObject({ app: "beta", path: "/hello", forwardedPrefix: `/d/${beta.deploymentId}` });
  expect(await (await viaPublicHost(`/d/${alpha.deploymentId}`)).json()).toMatchObject({ app: "alpha", path: "/" });
  // With the port in the Host header, as a browser sends it: the same route.
  expect(await (await viaPublicHost(`/d/${alpha.deploymentId}/`, `localhost:${publicPort}`)).json()).toMatchObject({ app: "alpha", path: "/" });

  expect((await table.list()).sort()).toEqual([alpha.deploymentId, beta.deploymentId]);
});

test("a /d/<id> path answers only on the public host: never under another app's host, a tenant's host or an IP", async () => {
  const path = `/d/${alpha.deploymentId}/`;
  expect(await (await viaPublicHost(path)).json()).toMatchObject({ app: "alpha" });
  // Hosts no app owns: Caddy's fallback.
  for (const host of ["nobody.localhost", "t1.w1.localhost", "127.0.0.1", `127.0.0.1:${publicPort}`, "localhost.evil.example"]) {
    const res = await viaPublicHost(path, host);
    expect({ host, status: res.status, body: await res.text() }).toEqual({ host, status: 404, body: "no app is deployed at this address\n" });
  }
  // Another app's host is that app's all the way down: beta answers, with the path as sent.
  for (const host of ["beta.localhost", `beta.localhost:${publicPort}`]) {
    expect(await (await viaPublicHost(path, host)).json()).toMatchObject({ app: "beta", path, forwardedPrefix: null });
  }
});

test("unknown hosts and unknown ids get the 404 fallback", async () => {
  const host = await viaHost("nobody");
  expect(host.status).toBe(404);
  expect(await host.text()).toBe("no app is deployed at this address\n");
  expect((await viaPublicHost("/d/zzzz9999/hello")).status).toBe(404);
  // A prefix of a known id is not that id.
  expect((await viaPublicHost(`/d/${alpha.deploymentId}x/`)).status).toBe(404);
  expect((await fetch(`${base()}/`)).status).toBe(404);
});

test("replacing one route's upstream does not disturb the other app", async () => {
  const alpha2 = upstream("alpha-v2");
  apps.push(alpha2);
  let stop = false;
  const failures: string[] = [];
  let served = 0;
  const traffic = (async () => {
    for (let i = 0; i < 100_000 && !stop; i++) {
      try {
        const res = await viaHost("beta", `/n/${i}`);
        const body = (await res.json()) as { app: string };
        if (res.status !== 200 || body.app !== "beta") failures.push(`${res.status} ${body.app}`);
        served++;
      } catch (err) {
        failures.push(String(err));
      }
    }
  })();
  // Several replaces, flipping alpha between two upstreams, each once more of beta's requests were served.
  const servedSince = async (n: number) => until(`beta's traffic past ${n} requests`, async () => served > n || failures.length > 0, 30_000);
  for (const port of [alpha2.port, apps[0]!.port, alpha2.port, apps[0]!.port, alpha2.port]) {
    await servedSince(served);
    await table.upsert({ ...alpha, upstreams: [`127.0.0.1:${port}`] });
  }
  await servedSince(served);
  stop = true;
  await traffic;

  expect(failures).toEqual([]);
  expect(served).toBeGreaterThan(0);
  expect(await (await viaHost("alpha")).json()).toMatchObject({ app: "alpha-v2" });
  // Still one route per deployment.
  expect((await table.list()).sort()).toEqual([alpha.deploymentId, beta.deploymentId]);
});

test("remove takes one route out; removing it again is fine", async () => {
  await table.remove(alpha.deploymentId);
  await table.remove(alpha.deploymentId);
  expect(await table.list()).toEqual([beta.deploymentId]);
  // Its upstream stays named in a route no request matches, so Caddy keeps counting requests to it.
  const held = (await (await fetch(`${adminUrl}/reverse_proxy/upstreams`)).json()) as { address: string }[];
  expect(held.map((u) => u.address)).toContain(alpha.upstreams[0]!);
  expect((await viaHost("alpha")).status).toBe(404);
  expect((await viaHost("beta")).status).toBe(200);
});

test("load replaces every route", async () => {
  await table.load([alpha]);
  expect(await table.list()).toEqual([alpha.deploymentId]);
  expect((await viaHost("beta")).status).toBe(404);
  expect((await viaHost("alpha")).status).toBe(200);
  // The admin API stays where it was.
  expect(await table.healthy()).toBe(true);
});

test("upsert into a fresh caddy (no ingress server yet) works", async () => {
  // Load Caddy's bootstrap config directly: admin only, no apps.
  const res = await fetch(`${adminUrl}/load`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: await Bun.file(supervisor.bootstrapPath).text(),
  });
  expect(res.status).toBe(200);
  expect(await table.list()).toEqual([]);
  await table.upsert(beta);
  expect(await table.list()).toEqual([beta.deploymentId]);
  expect((await viaHost("beta")).status).toBe(200);
  expect((await viaHost("nobody")).status).toBe(404);
});

test("when caddy dies the supervisor restarts it and onRestart fires; load brings routes back", async () => {
  const pid = supervisor.pid;
  expect(pid).not.toBeNull();
  const before = restarts;
  process.kill(pid!, "SIGKILL");

  await until("the supervisor to restart caddy", async () => restarts > before, 30_000);
  expect(restarts).toBe(before + 1);
  expect(supervisorLog).toContain(`caddy (pid ${pid}) exited with SIGKILL; restarting`);
  expect(supervisor.pid).not.toBeNull();
  expect(supervisor.pid).not.toBe(pid);
  expect(await table.healthy()).toBe(true);
  // A fresh caddy has no routes until Kiln loads them.
  expect(await table.list()).toEqual([]);

  await table.load([alpha, beta]);
  expect((await table.list()).sort()).toEqual([alpha.deploymentId, beta.deploymentId]);
  expect(await (await viaHost("beta")).json()).toMatchObject({ app: "beta" });
});

test("stop kills caddy and it stays down", async () => {
  const pid = supervisor.pid;
  await supervisor.stop();
  // stop() returns once caddy has exited, and the supervisor decides on a restart (and says so) the
  // moment it sees an exit: no "restarting" now means none was scheduled.
  expect(supervisorLog.filter((l) => l.startsWith(`caddy (pid ${pid}) exited`))).toEqual([]);
  expect(supervisor.pid).toBeNull();
  expect(await table.healthy()).toBe(false);
  expect(restarts).toBe(1);
});

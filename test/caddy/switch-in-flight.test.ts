/**
 * What Caddy 2.6 does with a request in flight when its route's upstream is switched over the admin
 * API (the facts the drain design rests on), and that RouteTable.inFlight still counts it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { kilnConfig } from "../../src/adapters/caddy/route-json.ts";
import { type Backend, type CaddyFixture, backend, startCaddy } from "./caddy-fixture.ts";

let caddy: CaddyFixture;
const backends: Backend[] = [];
beforeAll(async () => {
  caddy = await startCaddy();
});
afterAll(async () => {
  for (const b of backends) b.server.stop(true);
  await caddy?.stop();
});

const listed = async () => ((await (await fetch(`${caddy.adminUrl}/reverse_proxy/upstreams`)).json()) as { address: string; num_requests: number }[]);

test("a slow request to the old upstream completes; the admin call returns before it; inFlight keeps counting it", async () => {
  const [a, b] = [backend("old", { slowMs: 1500 }), backend("new")];
  backends.push(a, b);
  const route = (x: Backend) => ({ deploymentId: "sw000001", name: "sw", upstreams: [x.address] });
  await caddy.table.upsert(route(a));
  let slowDoneAt = 0;
  const slow = caddy.request("sw", "/slow").then(async (r) => ({ status: r.status, body: await r.text(), at: (slowDoneAt = Date.now()) }));
  await Bun.sleep(200);
  expect(await caddy.table.inFlight([a.address])).toBe(1);

  await caddy.table.upsert(route(b));
  const switchedAt = Date.now();
  expect(slowDoneAt).toBe(0); // (b) the admin call returned while the request was still in flight
  expect(await (await caddy.request("sw")).text()).toBe("new");
  expect(await caddy.table.inFlight([a.address])).toBe(1); // (c) still counted (the table keeps `old` named)
  expect((await listed()).find((u) => u.address === a.address)?.num_requests).toBe(1);

  const done = await slow; // (a) it completes, from the old upstream
  expect(done).toMatchObject({ status: 200, body: "old" });
  expect(done.at - switchedAt).toBeGreaterThan(1000);
  expect((await listed()).find((u) => u.address === a.address)?.num_requests).toBe(0);
});

test("without the table's draining, Caddy drops a switched-out upstream from /reverse_proxy/upstreams at once, request in flight or not", async () => {
  const [a, b] = [backend("old", { slowMs: 1500 }), backend("new")];
  backends.push(a, b);
  const load = (x: Backend) =>
    fetch(`${caddy.adminUrl}/load`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(kilnConfig(new URL(caddy.adminUrl).host, { publicHost: "localhost", publicPort: caddy.publicPort, listenHost: "127.0.0.1" }, [{ deploymentId: "raw00001", name: "raw", upstreams: [x.address] }])),
      keepalive: false,
    });
  expect((await load(a)).status).toBe(200);
  const slow = caddy.request("raw", "/slow").then(async (r) => `${r.status} ${await r.text()}`);
  await Bun.sleep(200);
  expect((await listed()).find((u) => u.address === a.address)?.num_requests).toBe(1);
  expect((await load(b)).status).toBe(200);
  expect((await listed()).map((u) => u.address)).not.toContain(a.address);
  expect(a.active).toBe(1);
  expect(await slow).toBe("200 old");
});

/**
 * Zero-drop swaps against a real Caddy: 8 keep-alive clients (1 request in 10 slow) for 10 s while a
 * route's upstream is switched 20 times (A→B→A…, each a new backend), each old backend kept up until RouteTable.inFlight says it
 * is idle and then closed hard. Every client request must succeed, and no backend may be closed
 * with a request still in it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Backend, type CaddyFixture, backend, startCaddy } from "./caddy-fixture.ts";

const CLIENTS = 8;
const LOAD_MS = 10_000;
const SWITCHES = 20;
const SLOW_MS = 500;
const DRAIN_TIMEOUT_MS = 15_000;

let caddy: CaddyFixture;
const backends: Backend[] = [];

beforeAll(async () => {
  caddy = await startCaddy();
});
afterAll(async () => {
  for (const b of backends) b.server.stop(true);
  await caddy?.stop();
});

test("20 upstream switches under 8 keep-alive clients drop no request", async () => {
  const route = (b: Backend) => ({ deploymentId: "swap0001", name: "swap", upstreams: [b.address] });
  const start = (i: number) => {
    const b = backend(`${i % 2 ? "B" : "A"}${i}`, { slowMs: SLOW_MS });
    backends.push(b);
    return b;
  };
  let current = start(0);
  await caddy.table.upsert(route(current));

  const failures: string[] = [];
  let ok = 0;
  let slowOk = 0;
  const deadline = Date.now() + LOAD_MS;
  const client = async (c: number) => {
    for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
      const slow = Math.random() < 0.1;
      try {
        const res = await caddy.request("swap", slow ? "/slow" : `/c${c}/${i}`);
        const body = await res.text();
        if (res.status !== 200 || !/^[AB]\d+$/.test(body)) failures.push(`client ${c} #${i}: ${res.status} ${body.slice(0, 80)}`);
        else if (slow) slowOk++;
        else ok++;
      } catch (err) {
        failures.push(`client ${c} #${i}: ${String(err)}`);
      }
    }
  };

  /** Closed with requests still in them (inFlight said 0 too early), and how long each drain took. */
  const closedBusy: string[] = [];
  const drainMs: number[] = [];
  const drain = async (old: Backend) => {
    const t0 = Date.now();
    for (;;) {
      if ((await caddy.table.inFlight([old.address])) === 0) break;
      if (Date.now() - t0 > DRAIN_TIMEOUT_MS) throw new Error(`${old.label} did not drain in ${DRAIN_TIMEOUT_MS} ms`);
      await Bun.sleep(100);
    }
    drainMs.push(Date.now() - t0);
    if (old.active > 0) closedBusy.push(`${old.label} (${old.active} in flight)`);
    old.server.stop(true); // hard: a request still in it would fail
  };

  let busyAtSwitch = 0;
  const swapper = async () => {
    const drains: Promise<void>[] = [];
    const gap = (LOAD_MS - 1500) / SWITCHES;
    for (let i = 1; i <= SWITCHES; i++) {
      await Bun.sleep(gap);
      const next = start(i);
      await caddy.table.upsert(route(next));
      if (current.active > 0) busyAtSwitch++;
      drains.push(drain(current));
      current = next;
    }
    await Promise.all(drains);
  };

  const t0 = Date.now();
  await Promise.all([swapper(), ...Array.from({ length: CLIENTS }, (_, c) => client(c))]);
  const elapsed = Date.now() - t0;

  expect(failures).toEqual([]);
  expect(closedBusy).toEqual([]);
  expect(drainMs).toHaveLength(SWITCHES);
  expect(ok).toBeGreaterThan(500);
  expect(slowOk).toBeGreaterThan(20);
  // Switches happened under traffic: most backends served some, most old ones had requests in flight when switched out.
  expect(backends.filter((b) => b.served > 0).length).toBeGreaterThanOrEqual(15);
  expect(busyAtSwitch).toBeGreaterThanOrEqual(10);
  expect(elapsed).toBeLessThan(35_000);
  console.log(`swap-under-load: ${ok} fast + ${slowOk} slow requests ok, ${busyAtSwitch}/${SWITCHES} switched out busy, drains ${Math.min(...drainMs)}–${Math.max(...drainMs)} ms, ${elapsed} ms`);
}, 40_000);

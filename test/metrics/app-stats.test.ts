/**
 * Per-app stats on a real Kiln (real engine, real Caddy): after a deploy and a known number of
 * requests through Caddy — by its host, its /d/<id> path and a domain of its own; some answered 404
 * by the app — GET /deployments/:id/stats shows exactly those requests by status class, a latency,
 * and CPU and memory from the engine; another app's and nobody's requests are not counted. The route's
 * refusals: 401 without the token, 404 for an unknown app, 400 for a bad `since`; and it is in the
 * OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const APP = join(import.meta.dir, "../fixtures/apps/day-two");
const OK = 24;
const MISSING = 8;
const BY_DOMAIN = 6;
const DOMAIN = "stats.example.test";

type Sample = {
  ts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  requestsPerSec: number | null;
  status: Record<"2xx" | "3xx" | "4xx" | "5xx", number>;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
};

let kiln: TestKiln;
let id: string;
let otherId: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  const res = await kiln.api("/deployments/upload?name=stats-app", { method: "POST", body: await tarOf(APP, true) });
  expect(res.status).toBe(202);
  id = ((await res.json()) as { id: string }).id;
  const other = await kiln.api("/deployments/upload?name=stats-other", { method: "POST", body: await tarOf(APP, true) });
  expect(other.status).toBe(202);
  otherId = ((await other.json()) as { id: string }).id;
  await kiln.waitFor(id, ["running"]);
  await kiln.waitFor(otherId, ["running"]);
  const domain = await kiln.api(`/deployments/${id}/domains`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ host: DOMAIN }) });
  expect(domain.status).toBeLessThan(300);
}, 240_000);

afterAll(async () => {
  await kiln?.stop();
}, 120_000);

async function stats(idOrName: string): Promise<{ intervalSeconds: number; samples: Sample[] }> {
  const res = await kiln.api(`/deployments/${idOrName}/stats`);
  expect(res.status).toBe(200);
  return (await res.json()) as { intervalSeconds: number; samples: Sample[] };
}

const total = (samples: Sample[], cls: keyof Sample["status"]) => samples.reduce((n, s) => n + s.status[cls], 0);

describe("app stats", () => {
  test("requests through Caddy show up by status class, with latency, and the containers' CPU and memory", async () => {
    // Requests by the app's host and by /d/<id>: both are the app's.
    for (let i = 0; i < OK; i++) {
      const res = i % 2 ? await kiln.viaSubdomain("stats-app", "/") : await kiln.viaPath(id, "/");
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    for (let i = 0; i < MISSING; i++) {
      const res = await kiln.viaSubdomain("stats-app", "/read"); // no /data volume: the app answers 404
      expect(res.status).toBe(404);
      await res.arrayBuffer();
    }
    for (let i = 0; i < BY_DOMAIN; i++) {
      const res = await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: DOMAIN } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // Another app's requests and nobody's (Caddy's fallback 404) are not this app's.
    for (let i = 0; i < 5; i++) await (await kiln.viaSubdomain("stats-other", "/read")).arrayBuffer();
    for (let i = 0; i < 5; i++) await (await kiln.viaSubdomain("nobody", "/")).arrayBuffer();
    // Caddy writes each access log line after its answer: sample until all of them were counted (bounded).
    const deadline = Date.now() + 30_000;
    let view = await stats("stats-app");
    while (Date.now() < deadline) {
      await kiln.stats.sampleNow();
      view = await stats("stats-app");
      const cpuSeen = view.samples.some((s) => s.cpuPercent !== null);
      const otherView = await stats("stats-other");
      if (total(view.samples, "2xx") >= OK + BY_DOMAIN && total(view.samples, "4xx") >= MISSING && total(otherView.samples, "4xx") >= 5 && cpuSeen) break;
      await Bun.sleep(300);
    }
    expect(view.intervalSeconds).toBe(10);
    expect(total(view.samples, "2xx")).toBe(OK + BY_DOMAIN);
    expect(total(view.samples, "4xx")).toBe(MISSING);
    const otherView = await stats(otherId);
    expect(total(otherView.samples, "4xx")).toBe(5);
    expect(total(otherView.samples, "2xx")).toBe(0);
    expect(total(view.samples, "5xx")).toBe(0);
    const busy = view.samples.filter((s) => s.status["2xx"] + s.status["4xx"] > 0);
    expect(busy.length).toBeGreaterThan(0);
    for (const s of busy) {
      expect(s.requestsPerSec!).toBeGreaterThan(0);
      expect(s.latencyP50Ms!).toBeGreaterThan(0);
      expect(s.latencyP95Ms!).toBeGreaterThanOrEqual(s.latencyP50Ms!);
    }
    const last = view.samples.at(-1)!;
    expect(last.memoryBytes!).toBeGreaterThan(1024 * 1024);
    expect(last.memoryLimitBytes!).toBeGreaterThanOrEqual(last.memoryBytes!);
    expect(view.samples.some((s) => s.cpuPercent !== null && s.cpuPercent >= 0)).toBe(true);
    // Oldest first, and `since` returns only newer samples.
    const ts = view.samples.map((s) => s.ts);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    const newer = await kiln.api(`/deployments/${id}/stats?since=${ts.at(-2) ?? 0}`);
    expect(((await newer.json()) as { samples: Sample[] }).samples.map((s) => s.ts)).toEqual(ts.slice(-1));
  }, 90_000);

  test("401 without the token, 404 for an unknown app, 400 for a bad since", async () => {
    const anon = await fetch(`${kiln.apiUrl}/api/v1/deployments/${id}/stats`);
    expect(anon.status).toBe(401);
    const missing = await kiln.api("/deployments/no-such-app/stats");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("no-such-app");
    const bad = await kiln.api(`/deployments/${id}/stats?since=yesterday`);
    expect(bad.status).toBe(400);
    const err = ((await bad.json()) as { error: { message: string; hint: string } }).error;
    expect(err.message).toContain("since");
    expect(err.hint).toContain("ms since the epoch");
  }, 30_000);

  test("the OpenAPI document lists the route with its 200, 400, 401 and 404", async () => {
    const doc = (await (await fetch(`${kiln.apiUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
    const get = doc.paths["/deployments/{id}/stats"]?.get;
    expect(Object.keys(get?.responses ?? {}).sort()).toEqual(["200", "400", "401", "404"]);
  }, 30_000);
});

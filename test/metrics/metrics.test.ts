/**
 * GET /metrics on a real Kiln (real engine, real Caddy): every listed metric is there, and each
 * moves when its work happens — a deploy, a claim, API requests, log lines, a log subscriber.
 * Behind the token on the API; token-free on KILN_METRICS_ADDR only; bad addresses refused at boot.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { freePort } from "../helpers/ports.ts";
import { ensureWorkloadImage, workloadYaml, writeWorkload, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";
import { deploymentStream } from "../../src/logs/streams.ts";

const ROOT = join(import.meta.dir, "../..");
const HELLO = join(ROOT, "examples/hello-node");
const TOKEN = "metrics-test-token-0123456789";
let kiln: TestKiln;
let metricsPort: number;

const METRICS = [
  "kiln_claim_duration_seconds",
  "kiln_pool_members",
  "kiln_builds_total",
  "kiln_build_step_duration_seconds",
  "kiln_http_requests_total",
  "kiln_log_lines_total",
  "kiln_log_lines_dropped_total",
  "kiln_ws_subscribers",
  "kiln_illegal_transitions_total",
];

/** A scrape on the token-free listener. */
async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** One sample's value (0 when the series is absent): `name{a="x",b="y"} 3`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = m[2] ? m[2].split(/,(?=[a-zA-Z_]+=")/) : [];
    if (got.length === want.length && want.every((w) => got.includes(w))) return Number(m[3]);
  }
  return 0;
}

async function until(what: string, check: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < deadline) {
    text = await scrape();
    if (check(text)) return text;
    await Bun.sleep(100);
  }
  throw new Error(`metrics never showed ${what}:\n${text}`);
}

beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  metricsPort = freePort();
  kiln = await startTestKiln({ KILN_API_TOKEN: TOKEN, KILN_METRICS_ADDR: `127.0.0.1:${metricsPort}` });
}, 120_000);

afterAll(async () => {
  await kiln?.api("/tenants/m1/release", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }).catch(() => {});
  await kiln?.stop();
}, 60_000);

describe("access", () => {
  test("the API's /metrics needs the token: 401 without it, the text format with it", async () => {
    const bare = await fetch(`${kiln.apiUrl}/api/v1/metrics`);
    expect(bare.status).toBe(401);
    await bare.arrayBuffer();
    const res = await kiln.api("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    for (const name of METRICS) expect(text).toContain(`# HELP ${name} `);
  });

  test("KILN_METRICS_ADDR serves /metrics without the token, and nothing else", async () => {
    expect(kiln.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
    const text = await scrape();
    for (const name of METRICS) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain("# TYPE kiln_claim_duration_seconds histogram");
    expect(text).toContain("# TYPE kiln_pool_members gauge");
    expect(text).toContain("# TYPE kiln_builds_total counter");
    const other = await fetch(`http://127.0.0.1:${metricsPort}/api/v1/deployments`);
    expect(other.status).toBe(404);
    await other.arrayBuffer();
    // the API's other routes are not opened by it
    const api = await fetch(`${kiln.apiUrl}/api/v1/deployments`);
    expect(api.status).toBe(401);
    await api.arrayBuffer();
  });

  test("the route is in the OpenAPI document, with the bearer scheme like every other", async () => {
    const doc = (await (await fetch(`${kiln.apiUrl}/api/v1/openapi.json`)).json()) as any;
    expect(doc.paths["/metrics"].get.responses["401"]).toBeDefined();
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  test("bad KILN_METRICS_ADDR values are refused at boot, naming the variable", () => {
    const cases: [string, string][] = [
      ["9464", "KILN_METRICS_ADDR: host:port"],
      ["127.0.0.1:0", "KILN_METRICS_ADDR: port 0 is not 1 to 65535"],
      ["127.0.0.1:70000", "KILN_METRICS_ADDR: port 70000 is not 1 to 65535"],
      ["0.0.0.0:9464", "KILN_METRICS_ADDR: 0.0.0.0 is not a loopback address"],
    ];
    for (const [value, message] of cases) {
      const run = Bun.spawnSync(["bun", "bin/kiln", "serve"], {
        cwd: ROOT,
        env: { ...process.env, KILN_DATA_DIR: join(kiln.config.dataDir, "never"), KILN_METRICS_ADDR: value },
      });
      expect([value, run.exitCode, run.stderr.toString()]).toEqual([value, 1, expect.stringContaining(`invalid configuration: ${message}`)]);
    }
  });
});

describe("each metric moves when its work happens", () => {
  test("a deploy counts a succeeded build, one duration per step, and log lines by stream", async () => {
    const before = await scrape();
    const res = await kiln.api("/deployments/upload?name=metrics-hello", { method: "POST", body: await tarOf(HELLO, true) });
    expect(res.status).toBe(202);
    const dep = (await res.json()) as { id: string };
    const running = await kiln.waitFor(dep.id, ["running", "failed"]);
    expect(running.status).toBe("running");
    const after = await until("the build counted", (t) => sample(t, "kiln_builds_total", { result: "succeeded" }) === sample(before, "kiln_builds_total", { result: "succeeded" }) + 1);
    for (const step of ["source", "build", "run", "healthy", "route"]) {
      expect([step, sample(after, "kiln_build_step_duration_seconds_count", { step })]).toEqual([step, sample(before, "kiln_build_step_duration_seconds_count", { step }) + 1]);
      expect(sample(after, "kiln_build_step_duration_seconds_bucket", { step, le: "+Inf" })).toBe(sample(after, "kiln_build_step_duration_seconds_count", { step }));
    }
    expect(sample(after, "kiln_build_step_duration_seconds_sum", { step: "build" })).toBeGreaterThan(sample(before, "kiln_build_step_duration_seconds_sum", { step: "build" }));
    expect(sample(after, "kiln_log_lines_total", { stream: "system" })).toBeGreaterThan(sample(before, "kiln_log_lines_total", { stream: "system" }));
    expect(sample(after, "kiln_log_lines_total", { stream: "build" })).toBeGreaterThan(sample(before, "kiln_log_lines_total", { stream: "build" }));

    // requests count under their route pattern, never the raw path with the id
    expect(sample(after, "kiln_http_requests_total", { route: "/api/v1/deployments/:id", status: "200" })).toBeGreaterThan(0);
    expect(sample(after, "kiln_http_requests_total", { route: "/api/v1/deployments/upload", status: "202" })).toBe(sample(before, "kiln_http_requests_total", { route: "/api/v1/deployments/upload", status: "202" }) + 1);
    expect(after).not.toContain(dep.id);

    // a line published to a deleted deployment's stream is dropped, and counted
    await kiln.service.remove(dep.id, { volumes: true });
    const dropped = sample(await scrape(), "kiln_log_lines_dropped_total");
    kiln.bus.publish(deploymentStream(dep.id), "runtime", "a late line\nand another");
    expect(sample(await scrape(), "kiln_log_lines_dropped_total")).toBe(dropped + 2);
  }, 300_000);

  test("a request refused by the token check counts under its route, with its status", async () => {
    const before = sample(await scrape(), "kiln_http_requests_total", { route: "/api/v1/deployments/:id", status: "401" });
    const res = await fetch(`${kiln.apiUrl}/api/v1/deployments/some-id`);
    expect(res.status).toBe(401);
    await res.arrayBuffer();
    const text = await scrape();
    expect(sample(text, "kiln_http_requests_total", { route: "/api/v1/deployments/:id", status: "401" })).toBe(before + 1);
    expect(text).not.toContain("some-id");
  });

  test("a live log subscriber is counted while it listens", async () => {
    const res = await kiln.api("/deployments/upload?name=metrics-logs", { method: "POST", body: await tarOf(HELLO, true) });
    const dep = (await res.json()) as { id: string };
    const base = sample(await scrape(), "kiln_ws_subscribers");
    const ws = new WebSocket(`${kiln.apiUrl.replace("http", "ws")}/api/v1/deployments/${dep.id}/logs?since=1&token=${TOKEN}`);
    await new Promise((resolve, reject) => {
      ws.onmessage = resolve;
      ws.onerror = reject;
    });
    await until("the subscriber", (t) => sample(t, "kiln_ws_subscribers") === base + 1);
    ws.close();
    await until("the subscriber gone", (t) => sample(t, "kiln_ws_subscribers") === base);
    await kiln.waitFor(dep.id, ["running", "failed"]);
  }, 300_000);

  test("a claim observes its duration by source and moves the pool's members from ready to claimed", async () => {
    writeWorkload(kiln.config.pools.workloadsDir, "mecho", workloadYaml("mecho", { min: 1, max: 2 }));
    const ready = await until("a ready member", (t) => sample(t, "kiln_pool_members", { workload: "mecho", status: "ready" }) >= 1);
    expect(sample(ready, "kiln_pool_members", { workload: "mecho", status: "claimed" })).toBe(0);
    const claims = sample(ready, "kiln_claim_duration_seconds_count", { source: "pool" });
    const res = await kiln.api("/tenants/m1/claim", { method: "POST", body: JSON.stringify({ workload: "mecho" }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    const claim = (await res.json()) as { source: string; latencyMs: number };
    expect(claim.source).toBe("pool");
    const after = await scrape();
    expect(sample(after, "kiln_claim_duration_seconds_count", { source: "pool" })).toBe(claims + 1);
    expect(sample(after, "kiln_claim_duration_seconds_sum", { source: "pool" })).toBeGreaterThanOrEqual(claim.latencyMs / 1000);
    expect(sample(after, "kiln_pool_members", { workload: "mecho", status: "claimed" })).toBe(1);
    expect(sample(after, "kiln_http_requests_total", { route: "/api/v1/tenants/:tenantId/claim", status: "200" })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  test("the lifecycles' refused-move tallies are exposed, one series per component", async () => {
    const text = await scrape();
    for (const component of ["build_runner", "refiller", "tenants", "pool_service", "member_health"]) {
      expect(text).toMatch(new RegExp(`^kiln_illegal_transitions_total\\{component="${component}"\\} \\d+$`, "m"));
    }
  });
});

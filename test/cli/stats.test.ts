/**
 * kiln stats as its own process against a real Kiln (Docker + Caddy): after requests through Caddy,
 * it prints the app's current figures and a sparkline per series; --json is the API's answer; an
 * unknown app exits 1 naming it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { runCli } from "./run-cli.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");
const NAME = "cli-stats";
const REQUESTS = 12;
let kiln: TestKiln;
let env: Record<string, string>;

beforeAll(async () => {
  kiln = await startTestKiln();
  env = { KILN_URL: kiln.apiUrl, KILN_TOKEN: kiln.token };
  const res = await kiln.api(`/deployments/upload?name=${NAME}`, { method: "POST", body: await tarOf(HELLO, true) });
  expect(res.status).toBe(202);
  await kiln.waitFor(NAME, ["running"]);
  for (let i = 0; i < REQUESTS; i++) await (await kiln.viaSubdomain(NAME, `/n/${i}`)).arrayBuffer();
  // Two samples at least (CPU is a rate), and every request counted: bounded wait.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await kiln.stats.sampleNow();
    const s = (await (await kiln.api(`/deployments/${NAME}/stats`)).json()) as { samples: { cpuPercent: number | null; status: { "2xx": number } }[] };
    if (s.samples.length >= 2 && s.samples.some((x) => x.cpuPercent !== null) && s.samples.reduce((n, x) => n + x.status["2xx"], 0) >= REQUESTS) break;
    await Bun.sleep(300);
  }
}, 240_000);

afterAll(async () => {
  await kiln?.stop();
}, 60_000);

test("kiln stats <app>: current values and a sparkline per series, the hour's requests by class", async () => {
  const r = await runCli(["stats", NAME], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split("\n");
  expect(lines[0]).toContain(`${NAME}: last`);
  for (const label of ["CPU", "Memory", "Net in", "Net out", "Requests", "4xx+5xx", "Latency"]) {
    const line = lines.find((l) => l.startsWith(label));
    expect(line).toBeDefined();
    expect(line!).toMatch(/[▁▂▃▄▅▆▇█]/);
  }
  expect(lines.find((l) => l.startsWith("CPU"))).toMatch(/\d+\.\d%/);
  expect(lines.find((l) => l.startsWith("Memory"))).toMatch(/MiB|KiB/);
  expect(lines.at(-1)).toBe(`requests in the hour: 2xx ${REQUESTS}  3xx 0  4xx 0  5xx 0`);
}, 60_000);

test("kiln stats --json is the API's answer", async () => {
  const r = await runCli(["stats", NAME, "--json"], env);
  expect(r.code).toBe(0);
  const view = JSON.parse(r.stdout) as { intervalSeconds: number; samples: unknown[] };
  expect(view.intervalSeconds).toBe(10);
  expect(view.samples.length).toBeGreaterThanOrEqual(2);
}, 60_000);

test("kiln stats on an unknown app exits 1 naming it; no app is a usage error", async () => {
  const r = await runCli(["stats", "no-such-app"], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("no-such-app");
  const u = await runCli(["stats"], env);
  expect(u.code).toBe(2);
}, 60_000);

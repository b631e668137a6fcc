/**
 * The stats charts in a real browser (Debian's Chromium, headless, via playwright-core) against a
 * real Kiln: deploy hello-node, send requests through Caddy, let Kiln take its samples, and see the
 * deployment page draw CPU, memory, network, requests and latency with non-empty lines.
 * A screenshot lands in test-output/screenshots/stats.png.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser } from "playwright-core";
import { buildDashboard, launchChromium } from "../helpers/browser.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHOTS = join(ROOT, "test-output", "screenshots");
const NAME = "web-stats";
const REQUESTS = 20;

let kiln: TestKiln;
let browser: Browser;
let id: string;

beforeAll(async () => {
  await buildDashboard();
  mkdirSync(SHOTS, { recursive: true });
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
  const res = await kiln.api(`/deployments/upload?name=${NAME}`, { method: "POST", body: await tarOf(join(ROOT, "examples/hello-node"), true) });
  expect(res.status).toBe(202);
  id = ((await res.json()) as { id: string }).id;
  await kiln.waitFor(id, ["running"]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
}, 120_000);

test("the deployment page draws the last hour: CPU, memory, network, requests by class, latency", async () => {
  for (let i = 0; i < REQUESTS; i++) await (await kiln.viaSubdomain(NAME, `/p/${i}`)).arrayBuffer();
  // Samples until CPU has a rate and every request is counted (bounded).
  const deadline = Date.now() + 30_000;
  for (;;) {
    await kiln.stats.sampleNow();
    const s = (await (await kiln.api(`/deployments/${id}/stats`)).json()) as { samples: { cpuPercent: number | null; netRxBytesPerSec: number | null; status: { "2xx": number } }[] };
    const counted = s.samples.reduce((n, x) => n + x.status["2xx"], 0);
    if (counted >= REQUESTS && s.samples.some((x) => x.cpuPercent !== null && x.netRxBytesPerSec !== null)) break;
    if (Date.now() > deadline) throw new Error(`stats never showed ${REQUESTS} requests and a CPU figure: ${JSON.stringify(s.samples.slice(-3))}`);
    await Bun.sleep(300);
  }
  // One more sample so that each line has at least two points to join.
  await Bun.sleep(200);
  await kiln.stats.sampleNow();

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  try {
    await page.goto(`${kiln.apiUrl}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel("API token").fill(kiln.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Deployments" }).waitFor();
    await page.goto(`${kiln.apiUrl}/deployments/${id}`);
    const panel = page.getByTestId("stats-panel");
    await panel.getByRole("heading", { name: "Last hour" }).waitFor();
    await panel.getByTestId("chart-cpu").waitFor({ timeout: 15_000 });

    const drawn = async (chart: string, series: string) => (await panel.getByTestId(`chart-${chart}`).locator(`path[data-series="${series}"]`).getAttribute("d")) ?? "";
    for (const [chart, series] of [
      ["cpu", "cpu"],
      ["memory", "memory"],
      ["network", "rx"],
      ["network", "tx"],
      ["requests", "2xx"],
      ["latency", "p50"],
      ["latency", "p95"],
    ] as const) {
      expect(await drawn(chart, series)).toMatch(/^M[\d.]+ [\d.]+L[\d.]+ [\d.]+/);
    }
    // A class nobody got (5xx) is drawn along the bottom, not left out.
    expect(await drawn("requests", "5xx")).toMatch(/^M/);
    // The current values are written beside each chart.
    expect(await panel.getByTestId("chart-cpu").locator(".stats-chart-now").textContent()).toMatch(/\d+\.\d%/);
    expect(await panel.getByTestId("chart-memory").locator(".stats-chart-now").textContent()).toMatch(/MiB|KiB/);
    expect(await panel.getByTestId("chart-requests").locator(".stats-chart-now").textContent()).toMatch(/\/s$/);
    const label = await panel.getByTestId("chart-latency").locator("svg").getAttribute("aria-label");
    expect(label).toMatch(/^Latency over the last hour, now p50 [\d.]+ ms/);
    await panel.screenshot({ path: join(SHOTS, "stats.png") });
  } finally {
    await page.close();
  }
}, 120_000);

/**
 * The dashboard's log viewer replaying 100,000 lines in headless Chromium (playwright-core) from a
 * real Kiln over protocol v2 (batched frames, end-of-replay marker). Prints how long the replay
 * took to reach the last line on screen; the goal is ≤ 2 s (it is printed, not asserted).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser } from "playwright-core";
import { buildDashboard, launchChromium } from "../helpers/browser.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { collectFrames } from "../helpers/ws-frames.ts";


let kiln: TestKiln;
let browser: Browser;
const tmp = mkdtempSync(join(tmpdir(), "kiln-web-replay-"));

beforeAll(async () => {
  await buildDashboard();
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

test("the log viewer replays 100,000 lines (time printed) and then follows the live tail", async () => {
  const empty = join(tmp, "empty");
  mkdirSync(empty, { recursive: true });
  writeFileSync(join(empty, "README.txt"), "nothing to run here\n");
  const created = await kiln.api("/deployments/upload?name=replay-100k", { method: "POST", body: await tarOf(empty) });
  expect(created.status).toBe(202);
  const { id } = (await created.json()) as { id: string };
  await kiln.waitFor(id, ["failed"], 60_000);
  const N = 100_000;
  let lastSeq = 0;
  for (let i = 1; i <= N; i++) lastSeq = kiln.bus.publish(id, i % 2 ? "runtime" : "build", `bulk line ${i} ${"·".repeat(i % 40)}`).seq;
  await kiln.bus.flush(); // a replay from the store, as after a restart

  // For comparison: the same replay into a Bun client (the server's share of the time).
  const t0 = Date.now();
  const got = await collectFrames(
    `${kiln.apiUrl.replace("http", "ws")}/api/v1/deployments/${id}/logs?v=2&token=${kiln.token}`,
    (c) => c.frames.some((f) => f.type === "replayed"),
  );
  console.log(`bun client: ${got.lines.length.toLocaleString("en-US")} lines in ${got.frames.length} frames in ${Date.now() - t0} ms`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${kiln.apiUrl}/`);
  await page.evaluate(`localStorage.setItem("kiln.token", ${JSON.stringify(kiln.token)})`);
  // For comparison: a bare WebSocket in the page, parsing every frame, no viewer.
  const bare = await page.evaluate(`new Promise((resolve) => {
    const t = performance.now();
    let n = 0;
    const ws = new WebSocket(${JSON.stringify(`${kiln.apiUrl.replace("http", "ws")}/api/v1/deployments/${id}/logs?v=2&token=${kiln.token}`)});
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === "lines") n += f.lines.length;
      else if (f.type === "replayed") { ws.close(); resolve({ n, ms: Math.round(performance.now() - t) }); }
    };
  })`);
  console.log(`bare WebSocket in Chromium: ${JSON.stringify(bare)}`);
  await page.goto(`${kiln.apiUrl}/deployments/replay-100k`);
  const viewport = page.getByTestId("log-viewport");
  await viewport.waitFor();
  // Time inside the page: from the stream opening (the viewer mounted) to the last line rendered.
  const started = Date.now();
  await viewport.locator(`[data-seq="${lastSeq}"]`).waitFor({ timeout: 120_000 });
  const ms = Date.now() - started;
  console.log(`log viewer: ${N.toLocaleString("en-US")} lines replayed and rendered in ${ms} ms (goal ≤ 2000 ms)`);
  expect(await page.getByTestId("log-count").innerText()).toContain(lastSeq.toLocaleString("en-US"));
  expect(await viewport.locator(".log-row").count()).toBeLessThan(200);
  await page.locator(".stream-state", { hasText: "live" }).waitFor();

  // Live tail after the marker.
  const live = kiln.bus.publish(id, "runtime", "after the replay").seq;
  await viewport.locator(`[data-seq="${live}"]`, { hasText: "after the replay" }).waitFor();
  await page.close();
}, 240_000);

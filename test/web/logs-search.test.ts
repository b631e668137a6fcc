/**
 * The log viewer's history search in headless Chromium (playwright-core) against a real Kiln: the
 * search goes to the API (GET /deployments/:id/logs), results come newest first with seq and time,
 * "Load older" follows `next` to the start of the log, a result jumps the live view to its line (or
 * shows it among its neighbours when the live view hides it), a bad window shows the API's 400
 * message and hint, and the live tail keeps arriving while a search is open.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type Request } from "playwright-core";
import { buildDashboard, launchChromium } from "../helpers/browser.ts";
import { failedDeployment, startTestKiln, type TestKiln } from "../helpers/kiln.ts";


let kiln: TestKiln;
let browser: Browser;

beforeAll(async () => {
  await buildDashboard();
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
}, 120_000);

const isSearch = (q: string) => (r: Request) => {
  const u = new URL(r.url());
  return r.method() === "GET" && /\/api\/v1\/deployments\/[^/]+\/logs$/.test(u.pathname) && u.searchParams.get("q") === q;
};

test("search the stored log from the viewer: newest first, load older, jump to a line, context, 400 hint, live tail kept", async () => {
  const id = await failedDeployment(kiln, "search-logs");
  const marker = kiln.bus.publish(id, "runtime", "ancient-marker-7q: the first thing this app said").seq;
  const needles: number[] = [];
  let lastSeq = marker;
  for (let i = 1; i <= 3000; i++) {
    const text = i % 12 === 0 ? `needle ${i} found` : `filler ${i} ${"·".repeat(i % 30)}`;
    lastSeq = kiln.bus.publish(id, i % 2 ? "runtime" : "build", text).seq;
    if (i % 12 === 0) needles.push(lastSeq);
  }
  expect(needles.length).toBe(250);
  await kiln.bus.flush(); // the search reads the store; the bus writes to it every 200 ms

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${kiln.apiUrl}/`);
  await page.evaluate(`localStorage.setItem("kiln.token", ${JSON.stringify(kiln.token)})`);
  await page.goto(`${kiln.apiUrl}/deployments/search-logs`);
  const viewport = page.getByTestId("log-viewport");
  await viewport.locator(`[data-seq="${lastSeq}"]`).waitFor({ timeout: 60_000 });
  // Following the tail: the marker, 3,000 lines up, is not on screen.
  expect(await viewport.locator(`[data-seq="${marker}"]`).count()).toBe(0);

  const history = page.getByPlaceholder("Search history…");
  const results = page.getByTestId("search-results");
  const status = page.getByTestId("search-status");

  // A search goes to the API and finds the old line, with its seq and time.
  const asked = page.waitForRequest(isSearch("ancient-marker-7q"));
  await history.fill("ancient-marker-7q");
  await asked;
  const hit = results.locator(`[data-seq="${marker}"]`);
  await hit.waitFor();
  expect(await hit.innerText()).toContain(`#${marker}`);
  expect(await hit.locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  expect(await hit.locator("mark").innerText()).toBe("ancient-marker-7q");
  await status.filter({ hasText: "1 match, back to the start of the log." }).waitFor();

  // The live tail keeps arriving (and followed) while the search is open.
  const live1 = kiln.bus.publish(id, "runtime", "live while searching").seq;
  await viewport.locator(`[data-seq="${live1}"]`, { hasText: "live while searching" }).waitFor();

  // A result jumps the live view to its line; follow stops until asked again.
  await hit.click();
  await viewport.locator(`[data-seq="${marker}"][aria-current="true"]`).waitFor();
  await page.getByRole("button", { name: "Follow latest" }).click();
  await viewport.locator(`[data-seq="${live1}"]`).waitFor();

  // Many matches: pages of 100, newest first, "Load older" down to the start of the log.
  await history.fill("needle");
  await status.filter({ hasText: "100 matches so far" }).waitFor();
  const seqs = async () => (await results.locator("[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq")))));
  expect(await seqs()).toEqual(needles.slice(-100).reverse());
  const loadOlder = page.getByRole("button", { name: "Load older" });
  await loadOlder.click();
  await status.filter({ hasText: "200 matches so far" }).waitFor();
  await loadOlder.click();
  await status.filter({ hasText: "250 matches, back to the start of the log." }).waitFor();
  expect(await seqs()).toEqual(needles.slice().reverse());
  expect(await loadOlder.count()).toBe(0);

  // The stream toggles filter the search too: every needle is a build line.
  const withoutBuild = page.waitForRequest((r) => isSearch("needle")(r) && new URL(r.url()).searchParams.get("stream") === "runtime,system");
  await page.getByRole("button", { name: "build", exact: true }).click();
  await withoutBuild;
  await status.filter({ hasText: "No stored line matches." }).waitFor();
  await page.getByRole("button", { name: "build", exact: true }).click();
  await status.filter({ hasText: "100 matches so far" }).waitFor();

  // A result the live view hides (its own filter shows only "filler" lines): shown in context instead,
  // the 10 lines either side fetched by seq through the same API.
  await page.getByPlaceholder("Search logs…").fill("filler");
  await loadOlder.click();
  await status.filter({ hasText: "200 matches so far" }).waitFor();
  const target = needles[100]!;
  await results.locator(`[data-seq="${target}"]`).click();
  const context = page.getByTestId("log-context");
  await context.locator(`[data-seq="${target}"][aria-current="true"]`, { hasText: "needle" }).waitFor();
  expect(await context.innerText()).toContain("hidden by the live view's filters");
  expect(await context.locator("[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))))).toEqual(
    Array.from({ length: 21 }, (_, i) => target - 10 + i),
  );
  await context.getByRole("button", { name: "Close" }).click();
  await page.getByPlaceholder("Search logs…").fill("");

  // A seq window narrows the search.
  await page.getByLabel("From (seq or time)").fill(String(needles[10]));
  await page.getByLabel("To (seq or time)").fill(String(needles[19]));
  await status.filter({ hasText: "10 matches, back to the start of the log." }).waitFor();
  expect(await seqs()).toEqual(needles.slice(10, 20).reverse());

  // A window the API cannot read: its 400 message and hint are shown.
  await page.getByLabel("From (seq or time)").fill("yesterday");
  const alert = page.getByRole("alert").filter({ hasText: "Search failed" });
  await alert.filter({ hasText: 'since "yesterday" is neither a seq nor a time' }).waitFor();
  expect(await alert.innerText()).toContain("give a seq");
  await page.getByLabel("From (seq or time)").fill("");
  await page.getByLabel("To (seq or time)").fill("");

  // No match: said plainly.
  await history.fill("no-such-term-zx81");
  await status.filter({ hasText: "No stored line matches." }).waitFor();
  expect(await results.count()).toBe(0);

  // And the tail is still live.
  const live2 = kiln.bus.publish(id, "runtime", "still live after searching").seq;
  await viewport.locator(`[data-seq="${live2}"]`, { hasText: "still live after searching" }).waitFor();
  await page.close();
}, 240_000);

test("a page that ran out of its scan budget says older lines may match, and Load older finds them", async () => {
  // The API examines at most 1,000,000 stored lines a page (a whole chunk at a time, so a little
  // more): put the only match a few thousand lines below that.
  const id = await failedDeployment(kiln, "search-budget");
  const old = kiln.bus.publish(id, "runtime", "budget-needle: far down").seq;
  const N = 1_005_000;
  const t0 = Date.now();
  for (let i = 1; i <= N; i++) kiln.bus.publish(id, "runtime", `b${i}`);
  await kiln.bus.flush();
  console.log(`published and stored ${N.toLocaleString("en-US")} lines in ${Date.now() - t0} ms`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${kiln.apiUrl}/`);
  await page.evaluate(`localStorage.setItem("kiln.token", ${JSON.stringify(kiln.token)})`);
  await page.goto(`${kiln.apiUrl}/deployments/search-budget`);
  await page.getByPlaceholder("Search history…").fill("budget-needle");
  const status = page.getByTestId("search-status");
  await status.filter({ hasText: "No stored line matches so far" }).waitFor({ timeout: 60_000 });
  expect(await status.innerText()).toMatch(/examining 1,00\d,\d{3} stored lines \(the per-page scan limit\), so older lines may still match/);
  await page.getByRole("button", { name: "Load older" }).click();
  await page.getByTestId("search-results").locator(`[data-seq="${old}"]`).waitFor({ timeout: 60_000 });
  await status.filter({ hasText: "1 match, back to the start of the log." }).waitFor();
  await page.close();
}, 240_000);

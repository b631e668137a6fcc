/**
 * Day two in the dashboard (headless Chromium via playwright-core) against a real Kiln: set an env
 * variable in the Env panel, roll back from the Releases panel, change replicas and the health path
 * in the Settings panel — each checked through the app's own URL. Values never appear on the page.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { buildDashboard, launchChromium } from "../helpers/browser.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHOTS = join(ROOT, "test-output", "screenshots");
const NAME = "web-day2";
const FIRST = "first-web-s3cret";
const SECOND = "second-web-s3cret";

let kiln: TestKiln;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await buildDashboard();
  mkdirSync(SHOTS, { recursive: true });
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
  const res = await kiln.api(`/deployments/upload?name=${NAME}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "kiln-env": JSON.stringify({ GREETING: FIRST }) },
    body: await tarOf(join(ROOT, "test/fixtures/env-echo"), true),
  });
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  await kiln.waitFor(NAME, ["running"], 120_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
}, 120_000);

const greeting = async () => (await kiln.viaSubdomain(NAME)).text();

async function deploymentPage(): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await p.goto(`${kiln.apiUrl}/deployments/${NAME}`);
  await p.waitForURL(/\/sign-in/);
  await p.getByLabel("API token").fill(kiln.token);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(new RegExp(`/deployments/${NAME}$`));
  await p.getByTestId("releases-panel").waitFor();
  return p;
}

test("the Env panel sets a variable (value write-only) and the app serves it", async () => {
  page = await deploymentPage();
  expect(await greeting()).toBe(`greeting=${FIRST} port=3000\n`);
  const panel = page.getByTestId("env-panel");
  await panel.locator('[data-testid="env-row"][data-key="GREETING"]').waitFor();
  const form = panel.getByTestId("env-form");
  await form.getByLabel("Name").fill("GREETING");
  const value = form.getByLabel("Value");
  expect(await value.getAttribute("type")).toBe("password");
  await value.fill(SECOND);
  await form.getByRole("button", { name: "Set" }).click();
  await panel.getByTestId("env-result").filter({ hasText: "Release #2 serving" }).waitFor({ timeout: 90_000 });
  expect(await greeting()).toBe(`greeting=${SECOND} port=3000\n`);
  expect(await value.inputValue()).toBe(""); // cleared after a success
  await page.locator('[data-testid="release-row"][data-number="2"][data-current="true"]').waitFor();
  const html = await page.content();
  expect(html).not.toContain(FIRST);
  expect(html).not.toContain(SECOND);
  await page.screenshot({ path: join(SHOTS, "day-two-env.png"), fullPage: true });
}, 120_000);

test("the Releases panel rolls back to release #1 after a confirmation; the app serves the old value", async () => {
  const row = page.locator('[data-testid="release-row"][data-number="1"]');
  expect(await page.locator('[data-testid="release-row"][data-current="true"]').getByRole("button").count()).toBe(0);
  await row.getByRole("button", { name: "Roll back" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Roll back to #1" }).click();
  await page.getByTestId("rollback-result").filter({ hasText: "Release #3 serving (rollback to release #1)" }).waitFor({ timeout: 90_000 });
  expect(await greeting()).toBe(`greeting=${FIRST} port=3000\n`);
  await page.locator('[data-testid="release-row"][data-number="3"][data-current="true"]').waitFor();
  const releases = (await (await kiln.api(`/deployments/${NAME}/releases`)).json()) as { releases: { number: number; via: string; trigger: string }[] };
  expect(releases.releases.map((r) => `${r.number} ${r.trigger} ${r.via}`)).toEqual(["3 rollback dashboard", "2 env dashboard", "1 deploy api"]);
}, 120_000);

test("the Settings panel changes replicas and the health path; the Env panel removes a variable", async () => {
  const panel = page.getByTestId("settings-panel");
  expect(await panel.getByTestId("setting-replicas").innerText()).toBe("1");
  await panel.getByRole("button", { name: "Edit" }).click();
  await panel.getByLabel("Replicas").fill("2");
  await panel.getByLabel("Health check path").fill("/healthz");
  await panel.getByRole("button", { name: "Save" }).click();
  await panel.getByTestId("settings-result").filter({ hasText: /Release #4 serving \(settings: / }).waitFor({ timeout: 90_000 });
  await panel.getByTestId("setting-replicas").filter({ hasText: "2" }).waitFor();
  await panel.getByTestId("setting-health").filter({ hasText: "/healthz" }).waitFor();
  const d = (await (await kiln.api(`/deployments/${NAME}`)).json()) as { instances: number; settings: { replicas: number; healthcheck: { path: string } } };
  expect(d.settings.replicas).toBe(2);
  expect(d.settings.healthcheck.path).toBe("/healthz");
  expect(d.instances).toBe(2);
  expect(await greeting()).toBe(`greeting=${FIRST} port=3000\n`);

  const env = page.getByTestId("env-panel");
  await env.getByRole("button", { name: "Remove GREETING" }).click();
  await env.getByTestId("env-result").filter({ hasText: "Release #5 serving" }).waitFor({ timeout: 90_000 });
  expect(await greeting()).toBe("greeting=(unset) port=3000\n");
  await env.locator('[data-testid="env-row"][data-key="GREETING"]').waitFor({ state: "detached" });
  await page.screenshot({ path: join(SHOTS, "day-two-settings.png"), fullPage: true });
  await page.close();
}, 120_000);

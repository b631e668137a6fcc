/**
 * Domains and the webhook in the dashboard (headless Chromium via playwright-core) against a real
 * Kiln (Docker + Caddy, TLS off): add a domain in the Domains panel and see it listed with its status
 * and detail (and the app answering there through Caddy), a bad host refused with the server's words,
 * remove it; create a webhook in the Webhook panel and see its URL and the secret once (a delivery
 * with it redeploys the app) — gone after a reload, while the URL stays — then rotate it and remove it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { buildDashboard, launchChromium } from "../helpers/browser.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHOTS = join(ROOT, "test-output", "screenshots");
const NAME = "web-int";
const HOST = "shop.web-int.example";

let kiln: TestKiln;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await buildDashboard();
  mkdirSync(SHOTS, { recursive: true });
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
  const res = await kiln.api(`/deployments/upload?name=${NAME}`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: await tarOf(join(ROOT, "test/fixtures/env-echo"), true) });
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  await kiln.waitFor(NAME, ["running"], 120_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
}, 120_000);

async function deploymentPage(): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  await p.goto(`${kiln.apiUrl}/deployments/${NAME}`);
  await p.waitForURL(/\/sign-in/);
  await p.getByLabel("API token").fill(kiln.token);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(new RegExp(`/deployments/${NAME}$`));
  await p.getByTestId("domains-panel").waitFor();
  return p;
}

/** The status of the app's second build once it is done (bounded wait). */
async function secondBuild(timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: string }[] = [];
  while (Date.now() < deadline) {
    last = ((await (await kiln.api(`/deployments/${NAME}/builds`)).json()) as { builds: { status: string }[] }).builds;
    if (last.length >= 2 && ["succeeded", "failed", "cancelled"].includes(last[0]!.status)) return last[0]!.status;
    await Bun.sleep(250);
  }
  throw new Error(`no second build finished; builds: ${JSON.stringify(last.map((b) => b.status))}`);
}

const viaHost = (host: string) => fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: `${host}:${kiln.publicPort}` } });

test("the Domains panel adds a domain: listed with its status (http, TLS off) and detail; the app answers there", async () => {
  page = await deploymentPage();
  const panel = page.getByTestId("domains-panel");
  await panel.getByText("No domains of its own yet").waitFor();
  await panel.getByLabel("Domain", { exact: true }).fill(HOST);
  await panel.getByRole("button", { name: "Add", exact: true }).click();
  const row = panel.locator(`[data-testid="domain-row"][data-host="${HOST}"]`);
  await row.waitFor({ timeout: 15_000 });
  expect(await row.getByTestId("domain-status").getAttribute("data-status")).toBe("http");
  expect(await row.getByTestId("domain-status").innerText()).toMatch(/http/i);
  expect(await row.getByTestId("domain-detail").innerText()).toContain(`served over plain HTTP at http://${HOST}:${kiln.publicPort}/`);
  expect(await panel.getByLabel("Domain", { exact: true }).inputValue()).toBe(""); // cleared after a success
  const res = await viaHost(HOST);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("greeting=");
  const api = (await (await kiln.api(`/deployments/${NAME}/domains`)).json()) as { domains: { host: string; status: string }[] };
  expect(api.domains.map((d) => `${d.host} ${d.status}`)).toEqual([`${HOST} http`]);
  await page.screenshot({ path: join(SHOTS, "integrations-domains.png"), fullPage: true });
}, 60_000);

test("a bad host is refused with the server's words; Remove detaches the domain", async () => {
  const panel = page.getByTestId("domains-panel");
  await panel.getByLabel("Domain", { exact: true }).fill("10.1.2.3");
  await panel.getByRole("button", { name: "Add", exact: true }).click();
  await panel.getByRole("alert").filter({ hasText: "is an IP address, not a domain" }).waitFor({ timeout: 15_000 });
  expect(await panel.getByTestId("domain-row").count()).toBe(1);
  await panel.getByRole("button", { name: `Remove ${HOST}` }).click();
  await panel.locator(`[data-testid="domain-row"][data-host="${HOST}"]`).waitFor({ state: "detached", timeout: 15_000 });
  expect((await viaHost(HOST)).status).toBe(404);
}, 60_000);

test("the Webhook panel creates a webhook: its URL, and the secret shown once; after a reload only the URL", async () => {
  const panel = page.getByTestId("webhook-panel");
  await panel.getByRole("button", { name: "Create webhook" }).click();
  const box = panel.getByTestId("webhook-secret-box");
  await box.waitFor({ timeout: 15_000 });
  const secret = await box.getByTestId("webhook-secret").innerText();
  expect(secret.length).toBeGreaterThanOrEqual(20);
  expect(await box.innerText()).toContain("shown only this once");
  const url = await panel.getByTestId("webhook-url").innerText();
  expect(url).toMatch(new RegExp(`^http://localhost:${kiln.publicPort}/_kiln/hooks/[A-Za-z0-9_-]+$`));
  const api = (await (await kiln.api(`/deployments/${NAME}/webhook`)).json()) as { configured: boolean; publicUrl: string };
  expect(api).toMatchObject({ configured: true, publicUrl: url });
  // the secret shown is the hook's: a generic delivery with it redeploys the app (a wrong one is refused)
  const hookPath = new URL(url).pathname.replace("/_kiln/hooks/", "/api/v1/hooks/");
  expect((await fetch(`${kiln.apiUrl}${hookPath}`, { method: "POST", headers: { authorization: "Bearer wrong-secret" } })).status).toBe(401);
  expect((await fetch(`${kiln.apiUrl}${hookPath}`, { method: "POST", headers: { authorization: `Bearer ${secret}` } })).status).toBe(202);
  expect(await secondBuild()).toBe("succeeded");
  await page.screenshot({ path: join(SHOTS, "integrations-webhook.png"), fullPage: true });

  await page.reload();
  await panel.getByTestId("webhook-url").filter({ hasText: url }).waitFor();
  expect(await page.content()).not.toContain(secret);
  expect(await panel.getByTestId("webhook-secret-box").count()).toBe(0);

  await panel.getByRole("button", { name: "Rotate secret" }).click();
  await panel.getByRole("alertdialog").getByRole("button", { name: "Rotate secret" }).click();
  await box.filter({ hasText: "the old one no longer works" }).waitFor({ timeout: 15_000 });
  expect(await box.getByTestId("webhook-secret").innerText()).not.toBe(secret);
  await panel.getByRole("button", { name: "Remove" }).click();
  await panel.getByRole("alertdialog").getByRole("button", { name: "Remove webhook" }).click();
  await panel.getByRole("button", { name: "Create webhook" }).waitFor({ timeout: 15_000 });
  expect(((await (await kiln.api(`/deployments/${NAME}/webhook`)).json()) as { configured: boolean }).configured).toBe(false);
  await page.close();
}, 90_000);

/**
 * The dashboard in a real browser (Debian's Chromium, headless, via playwright-core) against a real
 * Kiln: sign in, deploy a tarball through the drop zone, watch it run, read its logs, claim and
 * release a tenant, and scroll a 100,000-line log. Screenshots land in test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { buildDashboard, launchChromium } from "../helpers/browser.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { workloadYaml, writeWorkload, ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS } from "../helpers/workloads.ts";
import { readTarEntries } from "../../src/formats/tar/reader.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHOTS = join(ROOT, "test-output", "screenshots");

let kiln: TestKiln;
let browser: Browser;
const tmp = mkdtempSync(join(tmpdir(), "kiln-web-test-"));

// The image the workloads run, assembled on first use: slow on a fresh machine.
beforeAll(ensureWorkloadImage, WORKLOAD_IMAGE_TIMEOUT_MS);

beforeAll(async () => {
  await buildDashboard();
  mkdirSync(SHOTS, { recursive: true });
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

async function signedInPage(width = 1280, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`${kiln.apiUrl}/`);
  await page.waitForURL(/\/sign-in/);
  await page.getByLabel("API token").fill(kiln.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Deployments" }).waitFor();
  return page;
}

describe("dashboard", () => {
  test("the API still answers JSON 404s under /api; the app is served for client routes", async () => {
    const api = await kiln.api("/nope");
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { kind: string } }).error.kind).toBe("not_found");
    const page = await fetch(`${kiln.apiUrl}/deployments/anything`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  }, 30_000);

  test("a wrong token is refused with a readable message", async () => {
    const page = await browser.newPage();
    await page.goto(`${kiln.apiUrl}/pools`);
    await page.waitForURL(/\/sign-in\?next=%2Fpools/);
    await page.getByLabel("API token").fill("definitely-not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "the API token is wrong" }).waitFor();
    expect(await page.getByRole("alert").innerText()).not.toContain("{");
    // A token that goes bad later sends you back to sign-in with the reason.
    await page.evaluate(`localStorage.setItem("kiln.token", "revoked-token-0000")`);
    await page.goto(`${kiln.apiUrl}/`);
    await page.getByText("the API token is wrong. Sign in again").waitFor();
    await page.close();
  }, 60_000);

  test("deploy a tarball through the drop zone, watch it run, read its logs, claim and release a tenant", async () => {
    const page = await signedInPage();
    const tgz = join(tmp, "hello.tgz");
    writeFileSync(tgz, await tarOf(join(ROOT, "examples", "hello-node"), true));

    await page.getByRole("region", { name: "New deployment" }).locator(".tarball").getByLabel("Name (optional)").fill("hello-web");
    await page.getByTestId("dropzone").locator('input[type="file"]').setInputFiles(tgz);
    await page.getByRole("status").filter({ hasText: "Deploying hello-web" }).waitFor();

    const card = page.locator('[data-testid="deployment-card"][data-name="hello-web"]');
    await card.locator('[data-status="running"]').waitFor({ timeout: 180_000 });
    const url = card.getByTestId("deployment-url");
    expect(await url.getAttribute("href")).toBe(`http://hello-web.localhost:${kiln.publicPort}/`);
    await page.screenshot({ path: join(SHOTS, "deployments.png"), fullPage: true });

    const res = await kiln.viaSubdomain("hello-web");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("hello from kiln");

    await card.getByRole("link", { name: "hello-web", exact: true }).click();
    await page.waitForURL(/\/deployments\/hello-web$/);
    const viewport = page.getByTestId("log-viewport");
    await viewport.locator(".log-row.stream-build").first().waitFor();
    await viewport.locator(".log-row.stream-runtime", { hasText: "hello-node listening on port" }).waitFor();
    // The request above was logged by the app: runtime lines arrive live.
    await viewport.locator(".log-row.stream-runtime", { hasText: "GET /" }).first().waitFor();
    for (const step of ["source", "build", "run", "healthy", "route"]) {
      expect(await page.locator(`[data-step="${step}"]`).getAttribute("data-state")).toBe("done");
    }
    await page.getByRole("table").getByText("succeeded").waitFor();

    // Filters: hiding runtime leaves only build/system rows.
    await page.getByRole("button", { name: "runtime" }).click();
    expect(await viewport.locator(".log-row.stream-runtime").count()).toBe(0);
    await page.getByRole("button", { name: "runtime" }).click();
    await page.getByPlaceholder("Search logs…").fill("listening on port");
    await viewport.locator("mark", { hasText: "listening on port" }).first().waitFor();
    expect(await viewport.locator(".log-row").count()).toBe(1);
    await page.getByPlaceholder("Search logs…").fill("");
    await page.screenshot({ path: join(SHOTS, "deployment-logs.png"), fullPage: true });

    // Pools: a workload appears live, a tenant is claimed from the page, listed, released.
    writeWorkload(kiln.config.pools.workloadsDir, "echo-web", workloadYaml("echo-web", { min: 1, max: 2 }));
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pools" }).click();
    await page.waitForURL(/\/pools$/);
    const pool = page.locator('[data-testid="pool-card"][data-workload="echo-web"]');
    await pool.waitFor({ timeout: 30_000 });
    await page.getByRole("combobox", { name: "Workload" }).selectOption("echo-web");
    await page.getByLabel("Tenant id").fill("acme-web");
    await page.getByRole("button", { name: "Claim", exact: true }).click();
    const outcome = page.locator(".claim-form .notice");
    await outcome.waitFor({ timeout: 120_000 });
    expect(await outcome.innerText()).toContain("acme-web got a container");
    const row = page.locator('[data-testid="tenant-row"][data-tenant="acme-web"]');
    await row.and(page.locator('[data-status="claimed"]')).waitFor();
    await pool.locator('[data-count="claimed"]', { hasText: "1" }).waitFor();
    await page.screenshot({ path: join(SHOTS, "pools.png"), fullPage: true });
    await row.getByRole("button", { name: /Release acme-web/ }).click();
    await page.locator('[data-testid="tenant-row"][data-tenant="acme-web"][data-status="released"]').waitFor({ timeout: 60_000 });

    // Narrow screen: the list still reads.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole("link", { name: "Deployments" }).click();
    await card.waitFor();
    await page.screenshot({ path: join(SHOTS, "deployments-narrow.png"), fullPage: true });
    await page.close();
  }, 300_000);

  test("deploy a folder picked in the browser: packed there, ignore files honoured", async () => {
    const dir = join(tmp, "folder-app");
    mkdirSync(join(dir, "node_modules", "junk"), { recursive: true });
    writeFileSync(join(dir, "package.json"), readFileSync(join(ROOT, "examples", "hello-node", "package.json")));
    writeFileSync(join(dir, "server.js"), readFileSync(join(ROOT, "examples", "hello-node", "server.js")));
    writeFileSync(join(dir, "node_modules", "junk", "index.js"), "throw new Error('must not be uploaded')");
    writeFileSync(join(dir, ".kilnignore"), "secret.txt\n");
    writeFileSync(join(dir, "secret.txt"), "not for the server");
    const page = await signedInPage();
    await page.getByRole("region", { name: "New deployment" }).locator(".tarball").getByLabel("Name (optional)").fill("from-folder");
    await page.getByTestId("folder-input").setInputFiles(dir);
    const card = page.locator('[data-testid="deployment-card"][data-name="from-folder"]');
    await card.locator('[data-status="running"]').waitFor({ timeout: 180_000 });
    const res = await kiln.viaSubdomain("from-folder");
    expect(await res.text()).toContain("hello from kiln");
    // what reached the image: the app, not the ignored files
    const d = await kiln.service.get("from-folder");
    const list = await fetch(`http://docker/v1.41/containers/${d.instances[0]!.containerId}/archive?path=/app`, { unix: "/var/run/docker.sock" } as RequestInit);
    const names = (await readTarEntries(new Uint8Array(await list.arrayBuffer()))).map((e) => e.entry.path);
    expect(names).toEqual(expect.arrayContaining(["app/server.js", "app/package.json"]));
    expect(names.some((n) => n.includes("secret.txt") || n.includes("junk"))).toBe(false);
    await page.close();
  }, 240_000);

  test("the log viewer holds 100,000 lines: only visible rows in the DOM, first and last reachable", async () => {
    // A deployment whose build fails at once (nothing to build), then 100k lines into its log.
    const empty = join(tmp, "empty");
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, "README.txt"), "nothing to run here\n");
    const created = await kiln.api("/deployments/upload?name=bulk-logs", { method: "POST", body: await tarOf(empty) });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await kiln.waitFor(id, ["failed"], 60_000);
    const N = 100_000;
    let lastSeq = 0; // the seq of bulk line N, whatever the build logged before or after
    for (let i = 1; i <= N; i++) lastSeq = kiln.bus.publish(id, i % 2 ? "runtime" : "build", `bulk line ${i} ${"·".repeat(i % 40)}`).seq;

    const page = await signedInPage();
    await page.goto(`${kiln.apiUrl}/deployments/bulk-logs`);
    const viewport = page.getByTestId("log-viewport");
    // Following the tail: the very last line shows once all 100k have arrived. (Headless Chromium
    // takes in about 5,000 WebSocket messages a second on a small machine: most of this wait.)
    await viewport.locator(`[data-seq="${lastSeq}"]`, { hasText: `bulk line ${N} ` }).waitFor({ timeout: 120_000 });
    expect(await page.getByTestId("log-count").innerText()).toContain((await kiln.bus.lastSeq(id)).toLocaleString("en-US"));
    const rendered = await viewport.locator(".log-row").count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(200);

    // Keyboard: Home goes to the first line, End back to the last.
    await viewport.focus();
    await page.keyboard.press("Home");
    await viewport.locator('[data-seq="1"]').waitFor();
    expect(await viewport.locator(".log-row").count()).toBeLessThan(200);
    await page.getByRole("button", { name: "Follow latest" }).waitFor();
    await page.keyboard.press("End");
    await viewport.locator(`[data-seq="${lastSeq}"]`).waitFor();

    // Search across all 100k.
    await page.getByPlaceholder("Search logs…").fill("bulk line 77777 ");
    await viewport.locator(".log-row", { hasText: "bulk line 77777" }).waitFor();
    expect(await viewport.locator(".log-row").count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "logs-100k.png") });
    await page.close();
  }, 240_000);
});

/**
 * The dashboard's browser tests' shared setup: the dashboard built from the current source, once
 * per test run, and headless Chromium with the flags this machine needs (no sandbox as root, no
 * background networking: the network is closed).
 */
import { resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";

const ROOT = resolve(import.meta.dir, "../..");

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

let built: Promise<void> | null = null;

/**
 * `bun run build:web`, once however many test files ask. NODE_ENV=production: bun test sets it to
 * "test", which would make Vite bundle React's slow development build.
 */
export function buildDashboard(): Promise<void> {
  built ??= (async () => {
    const build = Bun.spawn(["bun", "run", "build:web"], { cwd: ROOT, env: { ...process.env, NODE_ENV: "production" }, stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([build.exited, new Response(build.stderr).text()]);
    if (code !== 0) throw new Error(`bun run build:web failed:\n${err}`);
  })();
  return built;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

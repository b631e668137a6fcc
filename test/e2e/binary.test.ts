/**
 * The single binary carries the dashboard: what scripts/build-binary.sh builds, copied alone into
 * an empty folder and run there as `./kiln serve` (temp data dir, free ports), answers /health,
 * serves the dashboard and its assets from inside itself, and the API with the token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { kilnProcess, type KilnProcess } from "../helpers/kiln-process.ts";

const ROOT = resolve(import.meta.dir, "../..");
const tmp = mkdtempSync(join(tmpdir(), "kiln-binary-test-"));
const runDir = join(tmp, "run");
let kiln: KilnProcess;
let proc: Subprocess | null = null;
let base = "";

beforeAll(async () => {
  const built = join(tmp, "build", "kiln");
  const build = Bun.spawn(["bash", "scripts/build-binary.sh", built], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`scripts/build-binary.sh failed:\n${await new Response(build.stderr).text()}`);
  mkdirSync(runDir);
  copyFileSync(built, join(runDir, "kiln"));
  rmSync(join(tmp, "build"), { recursive: true, force: true });

  kiln = kilnProcess("kiln-binary");
  base = `http://127.0.0.1:${kiln.env.KILN_API_PORT}`;
  proc = await kiln.serve({ cmd: ["./kiln", "serve"], cwd: runDir });
}, 240_000);

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
  kiln?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe("the compiled binary, alone in a folder", () => {
  test("its folder holds nothing but the binary", () => {
    expect(readdirSync(runDir)).toEqual(["kiln"]);
  });

  test("/health answers with Docker, Caddy and the tenant resolver up", async () => {
    const res = await fetch(`${base}/api/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, docker: true, caddy: true, tenantResolver: true, down: [] });
  });

  test("GET / is the dashboard's index.html, and the script and stylesheet it names load", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    expect(html).toContain('<div id="root">');

    const script = html.match(/<script[^>]+src="(\/assets\/[^"]+\.js)"/)?.[1];
    const style = html.match(/<link[^>]+href="(\/assets\/[^"]+\.css)"/)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    const js = await fetch(`${base}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await fetch(`${base}${style}`);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toStartWith("text/css");

    // A client route is the app too; an asset the build does not have is a 404.
    expect(await (await fetch(`${base}/deployments/anything`)).text()).toBe(html);
    expect((await fetch(`${base}/assets/index-missing.js`)).status).toBe(404);
  });

  test("the API answers with the token, and refuses without it", async () => {
    const res = await kiln.api("/deployments");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deployments: [] });
    expect((await fetch(`${base}/api/v1/deployments`)).status).toBe(401);
  });

  test("SIGTERM stops it cleanly", async () => {
    proc!.kill("SIGTERM");
    expect(await proc!.exited).toBe(0);
    expect(await fetch(`${base}/api/v1/health`).then(() => "answered", () => "refused")).toBe("refused");
  }, 30_000);
});

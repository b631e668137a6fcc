import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dashboardRoutes, resolveAsset } from "./dashboard.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-web-"));
mkdirSync(join(root, "assets"));
writeFileSync(join(root, "index.html"), "<!doctype html><title>app</title>");
writeFileSync(join(root, "assets", "app-123.js"), "console.log(1)");
const missing = join(root, "nope");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("resolveAsset", () => {
  test("stays inside the root", () => {
    expect(resolveAsset(root, "/assets/app-123.js")).toBe(join(root, "assets", "app-123.js"));
    expect(resolveAsset(root, "/../../etc/passwd")).toBe(join(root, "etc", "passwd"));
    expect(resolveAsset(root, "/%2e%2e/%2e%2e/etc/passwd")).toBe(join(root, "etc", "passwd"));
    expect(resolveAsset(root, "/")).toBeNull();
    expect(resolveAsset(root, "/%E0%A4%A")).toBeNull();
    expect(resolveAsset(root, "/a%00b")).toBeNull();
  });
});

describe("dashboardRoutes", () => {
  const app = dashboardRoutes(root);
  test("serves files, and index.html for client routes", async () => {
    const asset = await app.request("/assets/app-123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    for (const path of ["/", "/deployments/hello", "/pools"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("<title>app</title>");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    }
  });
  test("a missing asset is a 404; /api is left alone", async () => {
    expect((await app.request("/assets/old-999.js")).status).toBe(404);
    expect((await app.request("/api/v1/nope")).status).toBe(404);
    expect(await (await app.request("/api/v1/nope")).text()).not.toContain("<title>app</title>");
  });
  test("without a build, / says how to build it", async () => {
    const res = await dashboardRoutes(missing).request("/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("bun run build:web");
  });
});

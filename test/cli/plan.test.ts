/** `kiln plan <folder>`: the builder's decision without building, as its own process (bin/kiln), no server. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.ts";

const APPS = join(import.meta.dir, "../fixtures/apps");

test("a Node app: one line with the package manager and why, install, build and start; then the reasons", async () => {
  const r = await runCli(["plan", join(APPS, "node-pnpm")]);
  expect(r.code).toBe(0);
  const [first, ...rest] = r.stdout.trim().split("\n");
  expect(first).toBe(
    'detected: Node.js app (pnpm, "packageManager": "pnpm@9.15.9" in package.json) → `corepack enable && pnpm install --frozen-lockfile` → `pnpm run build` → start `node dist/server.js` on port 3000',
  );
  expect(rest).toContain("  build: pnpm run build (scripts.build in package.json)");
});

test("a Dockerfile app, JSON output, and what it cannot build", async () => {
  expect((await runCli(["plan", join(APPS, "dockerfile")])).stdout.trim()).toBe("detected: the app's own Dockerfile → build it");
  const json = await runCli(["plan", join(APPS, "static"), "--json"]);
  expect(JSON.parse(json.stdout)).toMatchObject({ builder: "kiln", plan: "detected: static site → serve `./`" });
  const empty = await runCli(["plan", mkdtempSync(join(tmpdir(), "kiln-plan-"))]);
  expect(empty.code).toBe(1);
  expect(empty.stderr).toContain("could not detect how to build this app");
  expect(empty.stderr).toContain("hint:");
  const missing = await runCli(["plan", "/nonexistent-folder"]);
  expect([missing.code, missing.stderr.trim()]).toEqual([2, "kiln: /nonexistent-folder is not a folder"]);
});

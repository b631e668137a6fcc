import { expect, test } from "bun:test";
import { join } from "node:path";
import { detectApp } from "./detect.ts";
import { planLine } from "./plan-line.ts";

const APPS = join(import.meta.dir, "../../../test/fixtures/apps");

test("one readable line per shape: what, the package manager and why, install, build, how it starts", async () => {
  expect(planLine(await detectApp(join(APPS, "node-pnpm")))).toBe(
    'detected: Node.js app (pnpm, "packageManager": "pnpm@9.15.9" in package.json) → `corepack enable && pnpm install --frozen-lockfile` → `pnpm run build` → start `node dist/server.js` on port 3000',
  );
  expect(planLine(await detectApp(join(APPS, "node-npm")))).toBe("detected: Node.js app (npm, found package-lock.json) → `npm ci --omit=dev` → start `node server.js` on port 3000");
  expect(planLine(await detectApp(join(APPS, "static")))).toBe("detected: static site → serve `./`");
  expect(planLine(await detectApp(join(APPS, "procfile")))).toBe("detected: Procfile app → start `node web.js --port $PORT` on port 3000");
});

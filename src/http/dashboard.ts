/**
 * The dashboard: the built single-page app in web/dist, served for every GET outside /api.
 * A file that exists is sent as it is (hashed assets cached for a year); any other path gets
 * index.html so the app's own router can show it. When web/dist was never built, `/` answers a
 * short page that says how to build it — never a crash.
 *
 * Run from source, the files come from the repository's web/dist. In the single binary they come
 * from inside it: scripts/build-binary.sh builds the dashboard into a folder named `dashboard` and
 * embeds it with `bun build --compile --asset`, which puts it at `<import.meta.dir>/dashboard` in
 * the binary's own file system, where `node:fs` and `Bun.file` read it like any other folder.
 */
import { Hono } from "hono";
import { existsSync, statSync } from "node:fs";
import { join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder name scripts/build-binary.sh embeds the built dashboard under. */
export const EMBEDDED_WEB_DIR_NAME = "dashboard";

/** The dashboard embedded in the compiled binary, else the repository's web/dist next to src/. */
export const DEFAULT_WEB_DIR = Bun.isStandaloneExecutable
  ? join(import.meta.dir, EMBEDDED_WEB_DIR_NAME)
  : fileURLToPath(new URL("../../web/dist", import.meta.url));

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export const NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Kiln</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#8882;padding:.1em .3em;border-radius:4px}</style></head>
<body><h1>Kiln</h1><p>The API is running, but the dashboard has not been built.</p>
<p>Run <code>bun run build:web</code> in the Kiln folder, then reload this page (for a single binary
that carries it: <code>bun run build:binary</code>).</p>
<p>The API lives under <a href="/api/v1/openapi.json"><code>/api/v1</code></a>.</p></body></html>`;

/**
 * The file under `root` that a URL path names, or null when it would leave `root` or names no
 * regular file. Pure path logic plus one existence check.
 */
export function resolveAsset(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const base = resolve(root);
  const full = resolve(base, "." + normalize("/" + decoded));
  if (full !== base && !full.startsWith(base + sep)) return null;
  if (full === base) return null;
  return full;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function dashboardRoutes(webDir: string = DEFAULT_WEB_DIR) {
  const app = new Hono();
  app.get("*", async (c, next) => {
    if (c.req.path === "/api" || c.req.path.startsWith("/api/")) return next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    const index = join(webDir, "index.html");
    if (!existsSync(index)) return c.html(NOT_BUILT_HTML, 200);

    const path = resolveAsset(webDir, c.req.path);
    if (path) {
      if (isFile(path)) {
        const file = Bun.file(path);
        const immutable = c.req.path.startsWith("/assets/");
        c.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
        c.header("content-type", file.type);
        return c.body(await file.arrayBuffer(), 200);
      }
      // A missing asset is a 404, not the app: a stale tab asking for an old bundle must fail loudly.
      if (c.req.path.startsWith("/assets/")) return c.text("not found", 404);
    }
    c.header("cache-control", "no-cache");
    return c.html(await Bun.file(index).text(), 200);
  });
  return app;
}

/**
 * The corpus: small apps in the shapes people deploy, written for Kiln (test/fixtures/apps/), each
 * deployed for real and judged by its HTTP answers — or, for the traps that cannot work, by the
 * failure message, which must say what to fix. `ci: true` apps run in the CI tier
 * (corpus.test.ts, from a tarball and from git); the whole corpus runs in bench/deploy.bench.ts,
 * which prints the time per app.
 */
import { EXTRA_CORPUS } from "./corpus-extra.ts";

export interface Check {
  path: string;
  /** Default 200. */
  status?: number;
  /** Text the body must hold. */
  body?: string;
  /** A header that must match. */
  header?: [name: string, pattern: RegExp];
  /** Sent with the request. */
  headers?: Record<string, string>;
}

export interface CorpusApp {
  /** The fixture folder under test/fixtures/apps. */
  fixture: string;
  /** What it is, for the table. */
  shape: string;
  /** The trap it sets, if any. */
  trap?: string;
  /** settings given with the deploy (e.g. rootDir). */
  settings?: Record<string, unknown>;
  /** The answers a deployed app gives. */
  checks?: Check[];
  /** The build fails, and its failure reason holds each of these. */
  fails?: string[];
  /** The plan line logged by the builder holds this. */
  plan?: string;
  /** In the CI tier. */
  ci: boolean;
}

export const CORPUS: CorpusApp[] = [
  { fixture: "node-npm", shape: "Node server, npm", ci: true, checks: [{ path: "/", body: '"isNumber":true' }], plan: "`npm ci --omit=dev`" },
  { fixture: "node-pnpm", shape: "Node server built by pnpm (packageManager)", ci: true, checks: [{ path: "/", body: "node-pnpm" }] },
  { fixture: "node-yarn", shape: "Node server, yarn 1, started from main", ci: true, checks: [{ path: "/", body: "node-yarn" }] },
  { fixture: "yarn-berry", shape: "Node server, yarn 4 (corepack from the npm registry)", ci: true, checks: [{ path: "/", body: '"app":"yarn-berry"' }] },
  { fixture: "yarn-pnp", shape: "Node server, yarn 4 Plug'n'Play (no node_modules)", ci: false, checks: [{ path: "/", body: '"app":"yarn-pnp"' }] },
  { fixture: "hono-node", shape: "Hono on Node, yarn 1, started from main", ci: false, checks: [{ path: "/", body: "hono-node" }], plan: "start `node src/index.js`" },
  { fixture: "fastify-app", shape: "Fastify server, npm", ci: false, checks: [{ path: "/", body: '"app":"fastify"' }] },
  { fixture: "express-ts", shape: "Express in TypeScript: the build needs devDependencies", trap: "build needs dev dependencies", ci: true, checks: [{ path: "/", body: '"typescriptInImage":false' }], plan: "`npm run build`" },
  { fixture: "nest-app", shape: "NestJS (start is `nest start`)", trap: "start needs dev-only tools", ci: true, checks: [{ path: "/", body: '"app":"nest-app"' }], plan: "start `node dist/main`" },
  { fixture: "next-app", shape: "Next.js server (next build + next start)", ci: false, checks: [{ path: "/", body: "next-app rendered on the server" }], plan: "start `next start`" },
  { fixture: "sveltekit-node", shape: "SvelteKit with adapter-node (SSR)", ci: false, plan: "start `node build`", checks: [{ path: "/", body: "sveltekit-node rendered by the SvelteKit node server" }] },
  { fixture: "astro-ssr", shape: "Astro SSR with @astrojs/node", ci: false, plan: "start `node ./dist/server/entry.mjs`", checks: [{ path: "/?who=kiln", body: "astro-ssr rendered on request for kiln" }] },
  { fixture: "nuxt-app", shape: "Nuxt 3 (SSR, postinstall runs nuxt prepare)", ci: false, plan: "start `node .output/server/index.mjs`", checks: [{ path: "/", body: "nuxt-app rendered by" }] },
  { fixture: "cra-app", shape: "Create React App SPA", trap: "start is a dev server", ci: false, plan: "serve `build/` with SPA fallback", checks: [
    { path: "/", body: 'data-app="cra-app"' },
    { path: "/client/side/route", body: 'data-app="cra-app"' },
  ] },
  { fixture: "vite-react", shape: "Vite + React SPA, npm", trap: "start is a dev server", ci: true, plan: "serve `dist/` with SPA fallback", checks: [
    { path: "/", body: 'data-app="vite-react"', header: ["cache-control", /no-cache/] },
    { path: "/some/client/route", body: 'data-app="vite-react"' },
  ] },
  { fixture: "vite-vue-pnpm", shape: "Vite + Vue SPA, pnpm, outDir from vite.config", ci: false, plan: "serve `site/`", checks: [
    { path: "/", body: 'data-app="vite-vue-pnpm"' },
    { path: "/deep/link", body: 'data-app="vite-vue-pnpm"' },
  ] },
  { fixture: "astro-two-lockfiles", shape: "Astro static site", trap: "two lockfiles (pnpm-lock.yaml and package-lock.json)", ci: false, plan: "pnpm", checks: [
    { path: "/", body: "astro-two-lockfiles home" },
    { path: "/blog/", body: "astro blog index" },
    { path: "/nope", status: 404, body: "astro says: no such page" },
  ] },
  { fixture: "eleventy-site", shape: "Eleventy static site", ci: false, checks: [
    { path: "/", body: "eleventy-site home" },
    { path: "/posts/first/", body: "the first eleventy post" },
    { path: "/missing", status: 404, body: "eleventy says: not here" },
  ] },
  { fixture: "static", shape: "plain static folder", ci: true, checks: [{ path: "/", body: "<" }] },
  { fixture: "procfile", shape: "Procfile web: line", ci: true, checks: [{ path: "/", body: "procfile" }] },
  { fixture: "railpack-json", shape: "railpack.json commands", ci: false, checks: [{ path: "/" }] },
  { fixture: "dockerfile", shape: "its own Dockerfile", ci: true, checks: [{ path: "/" }] },
  { fixture: "ignores-port", shape: "Node server that ignores $PORT", trap: "ignores PORT", ci: true, checks: [{ path: "/", body: "hard-coded 5055" }] },
  { fixture: "monorepo", shape: "monorepo subfolder", trap: "rootDir", settings: { rootDir: "apps/api" }, ci: true, checks: [{ path: "/", body: "monorepo/apps/api" }] },
  { fixture: "pnpm-catalog", shape: "pnpm workspace with catalog:", trap: "catalog: protocol", ci: true, checks: [{ path: "/", body: '"app":"pnpm-catalog"' }] },
  { fixture: "build-fails", shape: "a build that fails", trap: "failing build", ci: true, fails: ["npm run build", "src/b.js:12:3 error: Unexpected token", "build failed with 1 error"] },
  { fixture: "loopback-only", shape: "server on 127.0.0.1 only", trap: "listens on loopback", ci: false, fails: ["0.0.0.0"] },
];

/** Every app in the corpus: these and the shapes beyond Node (corpus-extra.ts). */
export const ALL_CORPUS: CorpusApp[] = [...CORPUS, ...EXTRA_CORPUS];

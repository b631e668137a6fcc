import { afterAll, describe, expect, test } from "bun:test";
import { StepError } from "../../../core/errors.ts";
import { detectApp } from "../detect.ts";
import { planLine } from "../plan-line.ts";
import { sourceTrees } from "../testdata/source-trees.ts";
import { devToolsRun, isDevServer } from "./node-frameworks.ts";
import { parsePackageJson } from "./package-json.ts";
import { pnpmMajorOfLockfile } from "./node-packages.ts";

const trees = sourceTrees("kiln-node-");
afterAll(trees.removeAll);
const tree = trees.tree;

const pkg = (obj: Record<string, unknown>) => JSON.stringify({ name: "x", version: "1.0.0", ...obj });
const plan = async (files: Record<string, string>) => detectApp(tree(files));

describe("built static sites", () => {
  test("Vite: a dev-server start is not a server; dist/ is served as an SPA by the static server", async () => {
    const p = await plan({
      "package.json": pkg({ scripts: { dev: "vite", build: "vite build", preview: "vite preview", start: "vite" }, devDependencies: { vite: "^5" } }),
      "vite.config.ts": "export default {}",
    });
    expect(p.kind).toBe("static");
    expect(p.framework).toBe("Vite SPA");
    expect(p.serve).toEqual({ dir: "dist", spa: true });
    expect(p.runImage.name).toBe("static");
    expect(p.buildImage.name).toBe("node");
    expect(p.buildCmd).toBe("npm run build");
    expect(p.installCmd).toBe("npm install");
    expect(p.pruneCmd).toBeUndefined();
    expect(p.reasons.serve).toContain("only runs a development server");
    expect(planLine(p)).toBe("detected: Vite SPA (npm, no lockfile: npm) → `npm install` → `npm run build` → serve `dist/` with SPA fallback");
  });

  test("Vite's outDir from the config or --outDir", async () => {
    const cfg = await plan({ "package.json": pkg({ scripts: { build: "vite build" }, devDependencies: { vite: "5" } }), "vite.config.js": "export default { build: { outDir: 'www' } }" });
    expect(cfg.serve?.dir).toBe("www");
    const flag = await plan({ "package.json": pkg({ scripts: { build: "tsc && vite build --outDir public_html" }, devDependencies: { vite: "5" } }) });
    expect(flag.serve?.dir).toBe("public_html");
  });

  test("Vite with a real server in scripts.start is a Node server", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { build: "vite build", start: "node server.js" }, dependencies: { express: "4" }, devDependencies: { vite: "5" } }), "vite.config.js": "" });
    expect(p.kind).toBe("node");
    expect(p.startCmd).toBe("node server.js");
  });

  test("CRA, Angular (application builder → browser/), Vue CLI, Docusaurus, Gatsby, Eleventy, Astro static", async () => {
    const cra = await plan({ "package.json": pkg({ scripts: { start: "react-scripts start", build: "react-scripts build" }, dependencies: { "react-scripts": "5" } }) });
    expect([cra.kind, cra.serve]).toEqual(["static", { dir: "build", spa: true }]);
    const angular = await plan({
      "package.json": pkg({ scripts: { start: "ng serve", build: "ng build" }, dependencies: { "@angular/core": "17" } }),
      "angular.json": JSON.stringify({ projects: { shop: { architect: { build: { builder: "@angular-devkit/build-angular:application", options: { outputPath: "dist/shop" } } } } } }),
    });
    expect(angular.serve).toEqual({ dir: "dist/shop/browser", spa: true });
    const vue = await plan({ "package.json": pkg({ scripts: { serve: "vue-cli-service serve", build: "vue-cli-service build" }, devDependencies: { "@vue/cli-service": "5" } }) });
    expect(vue.serve).toEqual({ dir: "dist", spa: true });
    const docs = await plan({ "package.json": pkg({ scripts: { start: "docusaurus start", build: "docusaurus build" }, dependencies: { "@docusaurus/core": "3" } }) });
    expect(docs.serve).toEqual({ dir: "build", spa: false });
    const gatsby = await plan({ "package.json": pkg({ scripts: { develop: "gatsby develop", start: "gatsby develop", build: "gatsby build" }, dependencies: { gatsby: "5" } }) });
    expect(gatsby.serve).toEqual({ dir: "public", spa: false });
    const eleventy = await plan({ "package.json": pkg({ scripts: { start: "eleventy --serve", build: "eleventy" }, devDependencies: { "@11ty/eleventy": "2" } }) });
    expect(eleventy.serve).toEqual({ dir: "_site", spa: false });
    const astro = await plan({ "package.json": pkg({ scripts: { dev: "astro dev", start: "astro dev", build: "astro build", preview: "astro preview" }, dependencies: { astro: "4" } }), "astro.config.mjs": "export default {}" });
    expect([astro.framework, astro.serve]).toEqual(["Astro static site", { dir: "dist", spa: false }]);
  });

  test("Next with output: 'export' serves out/ even though scripts.start says next start", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { build: "next build", start: "next start" }, dependencies: { next: "14" } }), "next.config.mjs": "export default { output: 'export' }" });
    expect([p.kind, p.serve]).toEqual(["static", { dir: "out", spa: false }]);
  });

  test("a build and nothing to start: the first output folder the build makes is served", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { build: "node build.js" } }) });
    expect(p.kind).toBe("static");
    expect(p.serve).toEqual({ dir: "dist", spa: false, alternatives: ["build", "out", "public", "_site"] });
    expect(p.installCmd).toBeUndefined();
  });

  test("a dev-server start with no build cannot be served: the error says so", async () => {
    const err = await detectApp(tree({ "package.json": pkg({ scripts: { start: "vite" }, devDependencies: { vite: "5" } }) })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toContain("only runs a development server");
  });
});

describe("Node servers", () => {
  test("NestJS: `nest start` needs @nestjs/cli from devDependencies, so start:prod runs instead and dev deps are pruned", async () => {
    const p = await plan({
      "package.json": pkg({
        scripts: { build: "nest build", start: "nest start", "start:dev": "nest start --watch", "start:prod": "node dist/main" },
        dependencies: { "@nestjs/core": "10", "@nestjs/common": "10" },
        devDependencies: { "@nestjs/cli": "10", typescript: "5" },
      }),
      "package-lock.json": "{}",
    });
    expect(p.framework).toBe("NestJS app");
    expect(p.startCmd).toBe("node dist/main");
    expect(p.reasons.start).toContain('scripts["start:prod"]');
    expect(p.pruneCmd).toBe("npm prune --omit=dev");
  });

  test("a start that runs ts-node from devDependencies with no production script keeps devDependencies", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { start: "ts-node src/index.ts" }, dependencies: { express: "4" }, devDependencies: { "ts-node": "10", typescript: "5" } }), "package-lock.json": "{}" });
    expect(p.startCmd).toBe("ts-node src/index.ts");
    expect(p.installCmd).toBe("npm ci");
    expect(p.pruneCmd).toBeUndefined();
    expect(p.reasons.install).toContain("devDependencies are kept: the start command runs ts-node");
  });

  test("Next: next start; standalone output runs server.js with its static files copied, on 0.0.0.0", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { dev: "next dev", build: "next build" }, dependencies: { next: "14", react: "18" } }) });
    expect([p.kind, p.startCmd, p.framework]).toEqual(["node", "next start", "Next.js app"]);
    const s = await plan({ "package.json": pkg({ scripts: { build: "next build", start: "next start" }, dependencies: { next: "14" } }), "next.config.js": "module.exports = { output: 'standalone' }" });
    expect(s.startCmd).toBe("next start"); // the app's own start wins
    const s2 = await plan({ "package.json": pkg({ scripts: { build: "next build" }, dependencies: { next: "14" } }), "next.config.js": "module.exports = { output: \"standalone\" }" });
    expect(s2.startCmd).toBe("node .next/standalone/server.js");
    expect(s2.buildCmd).toContain("cp -r .next/static .next/standalone/.next/");
    expect(s2.runEnv).toEqual({ HOSTNAME: "0.0.0.0" });
  });

  test("Nuxt, SvelteKit (node and auto adapters), Astro SSR, React Router, Remix", async () => {
    const nuxt = await plan({ "package.json": pkg({ scripts: { build: "nuxt build", dev: "nuxt dev", preview: "nuxt preview" }, dependencies: { nuxt: "3" } }) });
    expect([nuxt.startCmd, nuxt.runEnv]).toEqual(["node .output/server/index.mjs", { HOST: "0.0.0.0" }]);
    const nuxtGen = await plan({ "package.json": pkg({ scripts: { build: "nuxt generate" }, dependencies: { nuxt: "3" } }) });
    expect(nuxtGen.serve).toEqual({ dir: ".output/public", spa: false });
    const kit = await plan({ "package.json": pkg({ scripts: { build: "vite build", dev: "vite dev" }, devDependencies: { "@sveltejs/kit": "2", "@sveltejs/adapter-node": "5", vite: "5", svelte: "4" } }) });
    expect([kit.kind, kit.startCmd, kit.buildEnv]).toEqual(["node", "node build", undefined]);
    const auto = await plan({ "package.json": pkg({ scripts: { build: "vite build" }, devDependencies: { "@sveltejs/kit": "2", "@sveltejs/adapter-auto": "3", vite: "5" } }) });
    expect(auto.buildEnv).toEqual({ GCP_BUILDPACKS: "true" });
    const kitStatic = await plan({ "package.json": pkg({ scripts: { build: "vite build" }, devDependencies: { "@sveltejs/kit": "2", "@sveltejs/adapter-static": "3", vite: "5" } }), "svelte.config.js": "adapter({ fallback: '200.html' })" });
    expect(kitStatic.serve).toEqual({ dir: "build", spa: true });
    const astro = await plan({ "package.json": pkg({ scripts: { build: "astro build" }, dependencies: { astro: "4", "@astrojs/node": "8" } }) });
    expect([astro.startCmd, astro.runEnv]).toEqual(["node ./dist/server/entry.mjs", { HOST: "0.0.0.0" }]);
    const rr = await plan({ "package.json": pkg({ scripts: { build: "react-router build", dev: "react-router dev" }, dependencies: { "@react-router/serve": "7" }, devDependencies: { "@react-router/dev": "7" } }) });
    expect(rr.startCmd).toBe("react-router-serve ./build/server/index.js");
    const rrSpa = await plan({ "package.json": pkg({ scripts: { build: "react-router build" }, devDependencies: { "@react-router/dev": "7" } }), "react-router.config.ts": "export default { ssr: false }" });
    expect(rrSpa.serve).toEqual({ dir: "build/client", spa: true });
    const remix = await plan({ "package.json": pkg({ scripts: { build: "remix build", start: "remix-serve ./build/index.js" }, dependencies: { "@remix-run/serve": "2" } }) });
    expect(remix.startCmd).toBe("remix-serve ./build/index.js");
  });
});

describe("package managers", () => {
  test("several lockfiles: the most specific wins and the warning says which and how to choose", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { start: "node s.js" }, dependencies: { a: "1" } }), "package-lock.json": "{}", "pnpm-lock.yaml": "lockfileVersion: '9.0'\n", "yarn.lock": "" });
    expect(p.packageManager).toBe("pnpm");
    expect(p.warnings[0]).toContain("several lockfiles (pnpm-lock.yaml, yarn.lock, package-lock.json); using pnpm-lock.yaml, the most specific");
    const field = await plan({ "package.json": pkg({ packageManager: "npm@10.8.0", scripts: { start: "node s.js" } }), "package-lock.json": "{}", "pnpm-lock.yaml": "" });
    expect(field.packageManager).toBe("npm");
    expect(field.warnings[0]).toContain('as "packageManager" says');
  });

  test("pnpm's major follows the lockfile format (or engines.pnpm) when packageManager is absent", async () => {
    const v6 = await plan({ "package.json": pkg({ scripts: { start: "node s.js" } }), "pnpm-lock.yaml": "lockfileVersion: '6.0'\n\nsettings:\n" });
    expect(v6.installCmd).toBe("corepack enable && corepack install -g pnpm@8 && pnpm install --frozen-lockfile --prod");
    expect(v6.reasons.packageManager).toContain("pnpm 8 (the lockfile's format)");
    const eng = await plan({ "package.json": pkg({ scripts: { start: "node s.js" }, engines: { pnpm: ">=9.5" } }), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" });
    expect(eng.installCmd).toContain("corepack install -g 'pnpm@>=9.5'");
    const field = await plan({ "package.json": pkg({ packageManager: "pnpm@9.1.0", scripts: { start: "node s.js" } }), "pnpm-lock.yaml": "lockfileVersion: '6.0'\n" });
    expect(field.installCmd).toBe("corepack enable && pnpm install --frozen-lockfile --prod");
    expect([pnpmMajorOfLockfile("lockfileVersion: 5.3\n"), pnpmMajorOfLockfile("lockfileVersion: 5.4"), pnpmMajorOfLockfile("lockfileVersion: '9.0'")]).toEqual(["6", "7", "9"]);
  });

  test("engines names the manager when there is no lockfile", async () => {
    const p = await plan({ "package.json": pkg({ scripts: { start: "node s.js" }, engines: { pnpm: "9" } }) });
    expect(p.packageManager).toBe("pnpm");
    expect(p.reasons.packageManager).toContain("engines.pnpm");
  });
});

test("isDevServer and devToolsRun", () => {
  for (const s of ["vite", "vite --port 3000", "vite preview", "react-scripts start", "ng serve", "next dev", "nuxt dev", "astro dev", "gatsby develop", "webpack serve --mode development", "cross-env PORT=3000 vite"]) {
    expect([s, isDevServer(s)]).toEqual([s, true]);
  }
  for (const s of ["node server.js", "next start", "vite build", "serve -s build", "node dist/main", "remix-serve build"]) expect([s, isDevServer(s)]).toEqual([s, false]);
  const p = parsePackageJson(pkg({ dependencies: { tsx: "4" }, devDependencies: { nodemon: "3", "@nestjs/cli": "10" } }));
  expect(devToolsRun("NODE_ENV=production nodemon src/x.js && nest start", p)).toEqual(["nodemon", "@nestjs/cli"]);
  expect(devToolsRun("tsx src/x.ts", p)).toEqual([]);
});

test("yarn 2+ Plug'n'Play (no nodeLinker: node-modules): packages stay in the project's cache and node loads .pnp.cjs", async () => {
  const files = { "package.json": pkg({ packageManager: "yarn@4.5.3", scripts: { start: "node s.js" }, dependencies: { a: "1" } }), "yarn.lock": "__metadata:\n" };
  const pnp = await plan(files);
  expect(pnp.runEnv).toEqual({ NODE_OPTIONS: "--require /app/.pnp.cjs" });
  expect(pnp.buildEnv).toEqual({ YARN_ENABLE_GLOBAL_CACHE: "false" });
  const nm = await plan({ ...files, ".yarnrc.yml": "nodeLinker: node-modules\n" });
  expect([nm.runEnv, nm.buildEnv]).toEqual([undefined, undefined]);
});

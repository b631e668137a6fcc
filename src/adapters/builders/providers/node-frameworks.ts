/**
 * What a Node app is built with, read from package.json and the framework's config file, after
 * Railpack's node provider: whether its build output is a static site (served by the static
 * server, not by Node), or a server and how it starts when the app does not say.
 *
 *   static output   Vite, Create React App, Angular, Vue CLI, Parcel (SPAs: unknown paths fall back
 *                   to index.html); Astro without a server adapter, Next with output: 'export',
 *                   Nuxt generate, SvelteKit adapter-static, React Router with ssr: false,
 *                   Docusaurus, Eleventy, Gatsby (sites with their own pages and 404)
 *   servers         Next (next start, or standalone output), Nuxt (.output/server), SvelteKit
 *                   adapter-node (node build), Astro @astrojs/node (dist/server/entry.mjs),
 *                   React Router / Remix (react-router-serve / remix-serve), NestJS
 *
 * Reads root files only through the tree (never through a link out of it). Pure otherwise.
 */
import type { StaticServe } from "../plan.ts";
import type { Tree } from "../tree.ts";
import { dependsOn, type PackageJson } from "./package-json.ts";

export interface Framework {
  /** For people: "Vite SPA", "Next.js app". */
  name: string;
  /** Why it was recognised. */
  reason: string;
  /** The build output is a static site: served by the static server. */
  static?: StaticServe;
  /** How the server starts when scripts.start is absent, a dev server or the framework's own. */
  start?: string;
  /** The framework's own CLI names: a scripts.start that runs one of them is not a custom server. */
  cli: string[];
  /** Extra env of the running app (HOST=0.0.0.0 for servers that default to localhost). */
  runEnv?: Record<string, string>;
  /** Env of the build step (e.g. to make adapter-auto pick the Node adapter). */
  buildEnv?: Record<string, string>;
  /** Run after the build (Next's standalone output needs its static files copied in). */
  afterBuild?: string;
}

/** Config files read: checked for links out of the tree before anything is read. */
export const FRAMEWORK_CONFIGS = [
  "next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs",
  "vite.config.js", "vite.config.ts", "vite.config.mjs", "vite.config.mts",
  "astro.config.mjs", "astro.config.ts", "astro.config.js",
  "svelte.config.js", "svelte.config.mjs",
  "react-router.config.ts", "react-router.config.js",
  "nuxt.config.ts", "nuxt.config.js",
  "angular.json",
];

async function firstText(tree: Tree, names: string[]): Promise<string> {
  for (const n of names) {
    const t = await tree.text(n);
    if (t !== null) return t;
  }
  return "";
}

const configOf = (tree: Tree, prefix: string) => firstText(tree, FRAMEWORK_CONFIGS.filter((n) => n.startsWith(`${prefix}.config.`)));
/** `key: 'value'` or `key: "value"` in a config file. */
const configString = (text: string, key: string) => new RegExp(`\\b${key}\\s*:\\s*['"\`]([^'"\`]+)['"\`]`).exec(text)?.[1];

export async function recogniseFramework(tree: Tree, pkg: PackageJson): Promise<Framework | null> {
  const has = (name: string) => dependsOn(pkg, name);
  const build = pkg.scripts.build ?? "";

  if (has("next")) {
    const config = await configOf(tree, "next");
    const output = configString(config, "output");
    if (output === "export") {
      const dir = configString(config, "distDir") ?? "out";
      return { name: "Next.js static export", reason: "next in package.json, output: 'export' in next.config", static: { dir, spa: false }, cli: ["next"] };
    }
    if (output === "standalone") {
      return {
        name: "Next.js app (standalone)",
        reason: "next in package.json, output: 'standalone' in next.config",
        start: "node .next/standalone/server.js",
        afterBuild: "cp -r .next/static .next/standalone/.next/ && if [ -d public ]; then cp -r public .next/standalone/; fi",
        runEnv: { HOSTNAME: "0.0.0.0" },
        cli: ["next"],
      };
    }
    return { name: "Next.js app", reason: "next in package.json", start: "next start", cli: ["next"] };
  }

  if (has("nuxt") || has("nuxt3")) {
    if (/\bnux[ti] generate\b/.test(build)) {
      return { name: "Nuxt static site", reason: "nuxt in package.json, scripts.build runs nuxt generate", static: { dir: ".output/public", spa: false }, cli: ["nuxt", "nuxi"] };
    }
    return { name: "Nuxt app", reason: "nuxt in package.json", start: "node .output/server/index.mjs", runEnv: { HOST: "0.0.0.0" }, cli: ["nuxt", "nuxi"] };
  }

  if (has("@sveltejs/kit")) {
    if (has("@sveltejs/adapter-static")) {
      const config = await configOf(tree, "svelte");
      const spa = /\bfallback\s*:\s*['"`][^'"`]+['"`]/.test(config);
      const dir = configString(config, "pages") ?? "build";
      return { name: spa ? "SvelteKit SPA" : "SvelteKit static site", reason: "@sveltejs/kit with @sveltejs/adapter-static", static: { dir, spa }, cli: ["vite", "svelte-kit"] };
    }
    const auto = !has("@sveltejs/adapter-node");
    return {
      name: "SvelteKit app",
      reason: auto ? "@sveltejs/kit with adapter-auto: built with the Node adapter" : "@sveltejs/kit with @sveltejs/adapter-node",
      start: "node build",
      // adapter-auto picks adapter-node on this signal (Railpack sets the same).
      ...(auto ? { buildEnv: { GCP_BUILDPACKS: "true" } } : {}),
      runEnv: { HOST: "0.0.0.0" },
      cli: ["vite", "svelte-kit"],
    };
  }

  if (has("@react-router/dev") && (/\breact-router build\b/.test(build) || tree.has("react-router.config.ts") || tree.has("react-router.config.js"))) {
    const config = await configOf(tree, "react-router");
    if (/(?:^|[{,])\s*['"]?ssr['"]?\s*:\s*false\b/m.test(config)) {
      const dir = configString(config, "buildDirectory");
      return { name: "React Router SPA", reason: "@react-router/dev with ssr: false", static: { dir: dir ? `${dir.replace(/\/$/, "")}/client` : "build/client", spa: true }, cli: ["react-router"] };
    }
    return { name: "React Router app", reason: "@react-router/dev in package.json", start: "react-router-serve ./build/server/index.js", cli: ["react-router"] };
  }

  if (has("@remix-run/serve") || has("@remix-run/dev")) {
    return { name: "Remix app", reason: "@remix-run in package.json", start: "remix-serve ./build/index.js", cli: ["remix"] };
  }

  if (has("astro") && /\bastro build\b/.test(build)) {
    const config = await configOf(tree, "astro");
    const dir = configString(config, "outDir") ?? "dist";
    if (has("@astrojs/node")) {
      return { name: "Astro app (SSR)", reason: "astro with @astrojs/node", start: `node ./${dir}/server/entry.mjs`, runEnv: { HOST: "0.0.0.0" }, cli: ["astro"] };
    }
    if (configString(config, "output") === "server") {
      return { name: "Astro app (SSR)", reason: "astro with output: 'server'", start: `node ./${dir}/server/entry.mjs`, runEnv: { HOST: "0.0.0.0" }, cli: ["astro"] };
    }
    return { name: "Astro static site", reason: "astro build without a server adapter", static: { dir, spa: false }, cli: ["astro"] };
  }

  if (has("@nestjs/core")) {
    return { name: "NestJS app", reason: "@nestjs/core in package.json", start: "node dist/main", cli: ["nest"] };
  }

  if (has("@docusaurus/core")) {
    return { name: "Docusaurus site", reason: "@docusaurus/core in package.json", static: { dir: "build", spa: false }, cli: ["docusaurus"] };
  }
  if (has("gatsby")) {
    return { name: "Gatsby site", reason: "gatsby in package.json", static: { dir: "public", spa: false }, cli: ["gatsby"] };
  }
  if (has("@11ty/eleventy")) {
    return { name: "Eleventy site", reason: "@11ty/eleventy in package.json", static: { dir: "_site", spa: false }, cli: ["eleventy", "npx"] };
  }

  if (has("@angular/core") && tree.has("angular.json") && /\bng build\b/.test(build)) {
    const dir = angularOutput((await tree.text("angular.json")) ?? "");
    return { name: "Angular SPA", reason: "@angular/core, angular.json and ng build", static: { dir: dir ?? "dist", spa: true, ...(dir ? {} : { alternatives: ["build"] }) }, cli: ["ng"] };
  }
  if (has("react-scripts") && /\breact-scripts build\b/.test(build)) {
    return { name: "Create React App SPA", reason: "react-scripts build", static: { dir: "build", spa: true }, cli: ["react-scripts"] };
  }
  if (has("@vue/cli-service") && /\bvue-cli-service build\b/.test(build)) {
    return { name: "Vue CLI SPA", reason: "vue-cli-service build", static: { dir: "dist", spa: true }, cli: ["vue-cli-service"] };
  }
  const viteConfig = await configOf(tree, "vite");
  if (has("vite") && build && (/\bvite build\b/.test(build) || viteConfig !== "")) {
    const flag = /\bvite\s+build\b[^;&|]*?--outDir[ =]([^\s;&|]+)/.exec(build)?.[1];
    const dir = flag ?? configString(viteConfig, "outDir") ?? "dist";
    return { name: "Vite SPA", reason: "vite in package.json with a vite build", static: { dir, spa: true }, cli: ["vite"] };
  }
  if (has("parcel") && /\bparcel build\b/.test(build)) {
    const dir = /--dist-dir[ =]([^\s;&|]+)/.exec(build)?.[1] ?? "dist";
    return { name: "Parcel SPA", reason: "parcel build", static: { dir, spa: true }, cli: ["parcel"] };
  }
  return null;
}

/** angular.json's first project's build output folder (its browser/ subfolder for the application builder). */
function angularOutput(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as { projects?: Record<string, { architect?: { build?: { builder?: string; options?: { outputPath?: unknown; browser?: unknown } } } }> };
    for (const project of Object.values(json.projects ?? {})) {
      const b = project.architect?.build;
      const out = b?.options?.outputPath;
      const path = typeof out === "string" ? out : typeof out === "object" && out !== null && typeof (out as { base?: unknown }).base === "string" ? (out as { base: string }).base : undefined;
      if (!path) continue;
      const application = b?.builder === "@angular-devkit/build-angular:application" || b?.builder === "@angular/build:application" || b?.options?.browser !== undefined;
      return application ? `${path.replace(/\/$/, "")}/browser` : path;
    }
  } catch {
    // an unreadable angular.json: the build says why
  }
  return undefined;
}

/** The commands a script runs (its `&&`/`||`/`;` segments), each as words without leading VAR=value and cross-env. */
export function scriptCommands(script: string): string[][] {
  return script
    .split(/&&|\|\||;|\|/)
    .map((seg) => {
      const words = seg.trim().split(/\s+/).filter(Boolean);
      while (words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!) || words[0] === "cross-env" || words[0] === "env" || words[0] === "npx" || words[0] === "exec")) words.shift();
      return words;
    })
    .filter((w) => w.length > 0);
}

/**
 * A script that only runs a development server (or a framework's local preview), not something to
 * serve production traffic from.
 */
export function isDevServer(script: string): boolean {
  return scriptCommands(script).some(([bin, sub]) => {
    switch (bin) {
      case "vite":
        return sub === undefined || sub.startsWith("-") || sub === "dev" || sub === "serve" || sub === "preview";
      case "react-scripts":
      case "docusaurus":
        return sub === "start" || sub === "serve";
      case "ng":
        return sub === "serve";
      case "webpack":
      case "vue-cli-service":
        return sub === "serve";
      case "webpack-dev-server":
        return true;
      case "next":
      case "nuxt":
      case "nuxi":
      case "astro":
        return sub === "dev" || (bin !== "next" && sub === "preview");
      case "gatsby":
        return sub === "develop" || sub === "serve";
      case "eleventy":
        return script.includes("--serve");
      case "parcel":
        return sub !== "build";
      case "svelte-kit":
        return sub === "dev";
      default:
        return false;
    }
  });
}

/** The package a command's binary comes from, where the two names differ. */
const BIN_PACKAGE: Record<string, string> = {
  nest: "@nestjs/cli",
  "babel-node": "@babel/node",
  tsc: "typescript",
  "remix-serve": "@remix-run/serve",
  "react-router-serve": "@react-router/serve",
  "vue-cli-service": "@vue/cli-service",
  ng: "@angular/cli",
  eleventy: "@11ty/eleventy",
  docusaurus: "@docusaurus/core",
};

/** devDependencies a script's commands run (so pruning them would break it). */
export function devToolsRun(script: string, pkg: PackageJson): string[] {
  const out: string[] = [];
  for (const [bin] of scriptCommands(script)) {
    const name = BIN_PACKAGE[bin!] ?? bin!;
    if (pkg.devDeps.has(name) && !pkg.deps.has(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

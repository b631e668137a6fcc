/**
 * Node.js apps: a package.json. The package manager and its commands come from
 * node-packages.ts, the framework from node-frameworks.ts. The app becomes one of:
 *   a server   started by (first that applies) the Procfile web: line, railpack.json's
 *              deploy.startCommand, scripts.start (unless it only runs a dev server), the
 *              framework's own start, "main", index.js / server.js;
 *   a static site   when the framework's build output is static and no custom server starts it,
 *              or when there is a build and nothing to start: its output is served by the static
 *              server (the first of dist/, build/, out/, public/, _site/ the build makes).
 * A start command that runs a tool from devDependencies (`nest start`, `ts-node`) takes the
 * production script instead (`start:prod`) when there is one, else keeps devDependencies.
 */
import { join } from "node:path";
import { StepError } from "../../../core/errors.ts";
import { DETECTED, joinCommands } from "../railpack-config.ts";
import { APP_DIR } from "../dockerfile-gen.ts";
import { DEFAULT_PORT, type AppPlan, type RuntimeRequest, type StaticServe } from "../plan.ts";
import type { Tree } from "../tree.ts";
import { devToolsRun, FRAMEWORK_CONFIGS, isDevServer, recogniseFramework, scriptCommands, type Framework } from "./node-frameworks.ts";
import { choosePackageManager, INSTALL_CONFIG, installCommand, LOCKFILES, manifestPaths, pruneCommand } from "./node-packages.ts";
import { parsePackageJson, type PackageJson } from "./package-json.ts";
import { shellWord, type DetectContext, type Provider } from "./provider.ts";

export { parsePackageJson, type PackageJson } from "./package-json.ts";

/** Lifecycle scripts that run during install and may need the whole tree. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];
/** Where a build with no known framework may have put a static site. */
const STATIC_OUTPUTS = ["dist", "build", "out", "public", "_site"];
/** Scripts that start the app for production, in the order they are preferred over a start needing dev tools. */
const PROD_SCRIPTS = ["start:prod", "start:production", "prod", "serve:prod"];

export const nodeProvider: Provider = {
  name: "node",
  looksAt: ["package.json", "index.js", "server.js", ".nvmrc", ".node-version", ...Object.values(LOCKFILES).flat(), ...INSTALL_CONFIG, ".yarn", ...FRAMEWORK_CONFIGS],
  async plan(ctx) {
    const text = await ctx.tree.text("package.json");
    if (text === null) return null;
    return nodePlan(ctx, parsePackageJson(text));
  },
};

/** How the app runs: a command, or its build output served as a static site. */
type Start = { cmd: string; reason: string; devTools?: string[] } | { serve: StaticServe; reason: string };

async function nodePlan(ctx: DetectContext, pkg: PackageJson): Promise<AppPlan> {
  const { tree, warnings } = ctx;
  const reasons: AppPlan["reasons"] = { kind: "found package.json" };
  const manager = await choosePackageManager(tree, pkg, warnings);
  reasons.packageManager = manager.reason;
  const framework = await recogniseFramework(tree, pkg);
  if (framework) reasons.kind = `found package.json; ${framework.name}: ${framework.reason}`;
  const rp = ctx.railpack;
  const run = (script: string) => `${manager.pm} run ${script}`;

  // build
  const detectedBuild = pkg.scripts.build !== undefined ? run("build") : undefined;
  let buildCmd = detectedBuild;
  reasons.build = detectedBuild ? "scripts.build in package.json" : "no scripts.build in package.json";
  if (rp?.build) {
    buildCmd = joinCommands(rp.build, detectedBuild);
    reasons.build = rp.build.includes(DETECTED) && detectedBuild
      ? "steps.build.commands in railpack.json (\"...\" = scripts.build)"
      : "steps.build.commands in railpack.json";
  }

  const start = await nodeStart(ctx, pkg, framework, buildCmd !== undefined);
  reasons.start = start.reason;
  const isStatic = "serve" in start;
  if (framework?.afterBuild && buildCmd && !isStatic) buildCmd = `${buildCmd} && ${framework.afterBuild}`;

  // install: devDependencies are needed by a build, and kept when the start command runs one
  const keepDev = !isStatic && (start.devTools?.length ?? 0) > 0;
  const prodOnly = buildCmd === undefined && !keepDev;
  const detectedInstall = installCommand(manager, prodOnly);
  let installCmd: string | undefined = detectedInstall;
  let pruneCmd = buildCmd && !keepDev && !isStatic ? pruneCommand(manager) : undefined;
  let manifests = manifestPaths(tree, manager);
  reasons.install = manager.lockfile ? `${manager.lockfile} is present` : "no lockfile";
  if (isStatic) reasons.install += "; only the built site goes into the image";
  else if (keepDev) reasons.install += `; devDependencies are kept: the start command runs ${start.devTools!.join(", ")}`;
  else if (prodOnly) reasons.install += "; no build step, so devDependencies are left out";
  else if (pruneCmd) reasons.install += `; devDependencies are dropped after the build (${pruneCmd})`;
  else reasons.install += "; devDependencies are kept (yarn 2+ has no prune)";
  const installScripts = INSTALL_SCRIPTS.filter((s) => pkg.scripts[s] !== undefined);
  if (pkg.workspaces || tree.has("pnpm-workspace.yaml")) {
    manifests = [];
    reasons.install += "; workspaces: the whole tree is copied before installing";
  } else if (installScripts.length > 0) {
    manifests = [];
    reasons.install += `; scripts.${installScripts[0]} runs during install, so the whole tree is copied first`;
  }
  const nothingToInstall = !pkg.hasDependencies && !manager.lockfile && installScripts.length === 0 && !pkg.workspaces;
  if (nothingToInstall) {
    installCmd = undefined;
    pruneCmd = undefined;
    reasons.install = "package.json declares no dependencies: nothing to install";
  }
  if (rp?.install) {
    installCmd = joinCommands(rp.install, detectedInstall);
    pruneCmd = undefined;
    manifests = [];
    reasons.install = "steps.install.commands in railpack.json (run with the whole tree copied)";
  }

  const runEnv = { ...framework?.runEnv };
  const buildEnv = { ...framework?.buildEnv };
  if (manager.pm === "yarn" && manager.berry && !/^\s*nodeLinker\s*:\s*["']?(node-modules|pnpm)\b/m.test((await tree.text(".yarnrc.yml")) ?? "")) {
    // Yarn Plug'n'Play: no node_modules; node resolves packages through .pnp.cjs, loaded for every
    // process, from the zip archives in the project's own .yarn/cache (not the global cache, a
    // build-cache mount that never reaches the image).
    runEnv.NODE_OPTIONS = `--require ${APP_DIR}/.pnp.cjs`;
    buildEnv.YARN_ENABLE_GLOBAL_CACHE = "false";
    reasons.install += "; Yarn Plug'n'Play: node loads .pnp.cjs";
  }
  const runtime = manager.pm === "bun" ? bunVersion(pkg) : await nodeVersion(tree, pkg);
  if (runtime.version) reasons.runtime = `${runtime.name === "bun" ? "Bun" : "Node.js"} ${runtime.version} (${runtime.versionFrom})`;
  const common = {
    framework: framework?.name,
    packageManager: manager.pm,
    ...(manager.pm === "yarn" ? { yarnBerry: manager.berry } : {}),
    manifests,
    installCmd,
    buildCmd,
    port: DEFAULT_PORT,
    buildImage: runtime,
    ...(Object.keys(buildEnv).length > 0 ? { buildEnv } : {}),
    reasons,
    warnings,
  };
  if (isStatic) {
    reasons.serve = start.reason;
    reasons.start = "the static server";
    reasons.port = `the static server listens on $PORT (${DEFAULT_PORT} unless the app's environment sets it)`;
    if (!buildCmd) warnings.push("a static site with no build step: nothing makes its output; add scripts.build");
    return { ...common, kind: "static", startCmd: "", serve: start.serve, runImage: { name: "static" } };
  }
  reasons.port = `PORT=${DEFAULT_PORT} is set in the image; the app must listen on $PORT`;
  return {
    ...common,
    kind: "node",
    pruneCmd,
    startCmd: start.cmd,
    runImage: runtime,
    ...(Object.keys(runEnv).length > 0 ? { runEnv } : {}),
  };
}

async function nodeStart({ tree, railpack, procfileWeb }: DetectContext, pkg: PackageJson, framework: Framework | null, hasBuild: boolean): Promise<Start> {
  if (railpack?.start) return { cmd: railpack.start, reason: "deploy.startCommand in railpack.json" };
  if (procfileWeb) return { cmd: procfileWeb, reason: "the web: line of the Procfile" };
  const start = pkg.scripts.start;
  const ownStart = start !== undefined && framework !== null && scriptCommands(start).some(([bin]) => framework.cli.includes(bin!));
  if (start !== undefined && !isDevServer(start) && !(ownStart && framework?.static)) {
    return withDevTools(pkg, start, "scripts.start in package.json, run by sh with node_modules/.bin on PATH");
  }
  const devStart = start !== undefined ? ` (scripts.start, \`${start}\`, only runs a development server)` : "";
  if (framework?.static) {
    return { serve: framework.static, reason: `${framework.name}: the build's ${framework.static.dir}/ is served${framework.static.spa ? " with SPA fallback to index.html" : ""}${devStart}` };
  }
  if (framework?.start) return withDevTools(pkg, framework.start, `${framework.name}: its production server${devStart}`);
  if (pkg.main) {
    const candidates = [pkg.main, `${pkg.main}.js`, join(pkg.main, "index.js")];
    for (const c of candidates) if (await tree.isFile(c)) return { cmd: `node ${shellWord(c)}`, reason: `"main": ${JSON.stringify(pkg.main)} in package.json` };
    if (hasBuild) return { cmd: `node ${shellWord(pkg.main)}`, reason: `"main": ${JSON.stringify(pkg.main)} in package.json (made by the build)` };
  }
  for (const file of ["index.js", "server.js"]) {
    if (await tree.isFile(file)) return { cmd: `node ${file}`, reason: `found ${file}` };
  }
  if (hasBuild) {
    const [dir, ...alternatives] = STATIC_OUTPUTS;
    return {
      serve: { dir: dir!, spa: false, alternatives },
      reason: `a build and nothing to start${devStart}: a static site, served from the first of ${STATIC_OUTPUTS.map((d) => `${d}/`).join(", ")} the build makes`,
    };
  }
  throw new StepError(
    "could not find how to start the app" + (start !== undefined ? `: scripts.start (\`${start}\`) only runs a development server` : ""),
    'add a start script to package.json (e.g. "scripts": { "start": "node server.js" }), a Procfile with a web: line, ' +
      "deploy.startCommand in railpack.json, or an index.js / server.js at the root; a site built to static files needs a build script",
  );
}

/** A start command that runs devDependencies: the production script instead when there is one, else keep them. */
function withDevTools(pkg: PackageJson, cmd: string, reason: string): Start {
  const devTools = devToolsRun(cmd, pkg);
  if (devTools.length === 0) return { cmd, reason };
  for (const name of PROD_SCRIPTS) {
    const prod = pkg.scripts[name];
    if (prod && devToolsRun(prod, pkg).length === 0 && !isDevServer(prod)) {
      return { cmd: prod, reason: `scripts["${name}"]: the start command runs ${devTools.join(", ")} from devDependencies` };
    }
  }
  return { cmd, reason: `${reason}; it runs ${devTools.join(", ")} from devDependencies, so they are kept`, devTools };
}

/** The Node.js version the app asks for: .nvmrc, then .node-version, then engines.node (as Railpack reads them). */
async function nodeVersion(tree: Tree, pkg: PackageJson): Promise<RuntimeRequest> {
  for (const file of [".nvmrc", ".node-version"]) {
    const v = (await tree.text(file))?.split(/\r?\n/)[0]?.trim().replace(/^v(?=\d)/, "");
    if (v) return { name: "node", version: v, versionFrom: file };
  }
  if (pkg.engines.node) return { name: "node", version: pkg.engines.node, versionFrom: "engines.node in package.json" };
  return { name: "node" };
}

/** Bun apps run on Bun: the version "packageManager" names, else any. */
function bunVersion(pkg: PackageJson): RuntimeRequest {
  const m = /^bun@(\d[^+\s]*)/.exec(pkg.packageManager ?? "");
  return m ? { name: "bun", version: m[1], versionFrom: '"packageManager" in package.json' } : { name: "bun" };
}

/**
 * Node.js apps: a package.json. The package manager comes from "packageManager", else the
 * lockfile; install, build (scripts.build) and prune; the start command from the Procfile,
 * railpack.json, scripts.start, "main", or index.js / server.js.
 */
import { join } from "node:path";
import { StepError } from "../../../core/errors.ts";
import { jsonErrorWhere } from "../json-error.ts";
import { DETECTED, joinCommands } from "../railpack-config.ts";
import { DEFAULT_PORT, type AppPlan, type PackageManager, type RuntimeRequest } from "../plan.ts";
import type { Tree } from "../tree.ts";
import { shellWord, type DetectContext, type Provider } from "./provider.ts";

export interface PackageJson {
  scripts: Record<string, string>;
  main?: string;
  packageManager?: string;
  enginesNode?: string;
  workspaces: boolean;
  /** Whether any dependencies, devDependencies or optionalDependencies are declared. */
  hasDependencies: boolean;
}

export const nodeProvider: Provider = {
  name: "node",
  looksAt: ["package.json", "index.js", "server.js", ".nvmrc", ".node-version", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", ".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml", ".pnpmfile.cjs", ".yarn", "bun.lockb", "bun.lock"],
  async plan(ctx) {
    const text = await ctx.tree.text("package.json");
    if (text === null) return null;
    return nodePlan(ctx, parsePackageJson(text));
  },
};

export function parsePackageJson(text: string): PackageJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StepError(`package.json is not valid JSON${jsonErrorWhere(text)}`, "fix the syntax of package.json");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new StepError("package.json must hold a JSON object");
  const obj = raw as Record<string, unknown>;
  const scripts: Record<string, string> = {};
  if (typeof obj.scripts === "object" && obj.scripts !== null) {
    for (const [k, v] of Object.entries(obj.scripts)) if (typeof v === "string" && v.trim()) scripts[k] = v.trim();
  }
  const engines = typeof obj.engines === "object" && obj.engines !== null ? (obj.engines as Record<string, unknown>) : {};
  return {
    scripts,
    main: typeof obj.main === "string" && obj.main.trim() ? obj.main.trim() : undefined,
    packageManager: typeof obj.packageManager === "string" ? obj.packageManager.trim() : undefined,
    enginesNode: typeof engines.node === "string" ? engines.node.trim() : undefined,
    workspaces: obj.workspaces !== undefined,
    hasDependencies: ["dependencies", "devDependencies", "optionalDependencies"].some(
      (k) => typeof obj[k] === "object" && obj[k] !== null && Object.keys(obj[k] as object).length > 0,
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// node

const LOCKFILES: Record<PackageManager, string[]> = {
  bun: ["bun.lock", "bun.lockb"],
  npm: ["package-lock.json", "npm-shrinkwrap.json"],
  pnpm: ["pnpm-lock.yaml"],
  yarn: ["yarn.lock"],
};
/** Config files the install reads, copied with the manifests when present. */
const INSTALL_CONFIG = [".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml", ".pnpmfile.cjs"];
/** Lifecycle scripts that run during install and may need the whole tree. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];
/** A yarn 2+ lockfile says `__metadata:` in its first lines: only its head is read. */
const LOCK_HEAD = { maxBytes: 64 * 1024 };

interface ManagerChoice {
  pm: PackageManager;
  berry: boolean;
  lockfile?: string;
  reason: string;
}

async function nodePlan(ctx: DetectContext, pkg: PackageJson): Promise<AppPlan> {
  const { tree, warnings } = ctx;
  const reasons: AppPlan["reasons"] = { kind: "found package.json" };
  const manager = await choosePackageManager(tree, pkg, warnings);
  reasons.packageManager = manager.reason;
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

  // install
  const prodOnly = buildCmd === undefined;
  const detectedInstall = installCommand(manager, prodOnly);
  let installCmd: string | undefined = detectedInstall;
  let pruneCmd = buildCmd ? pruneCommand(manager) : undefined;
  let manifests = manifestPaths(tree, manager);
  reasons.install = manager.lockfile ? `${manager.lockfile} is present` : "no lockfile";
  if (prodOnly) reasons.install += "; no build step, so devDependencies are left out";
  else if (pruneCmd) reasons.install += `; devDependencies are dropped after the build (${pruneCmd})`;
  else reasons.install += "; devDependencies are kept (yarn 2+ has no prune)";
  const installScripts = INSTALL_SCRIPTS.filter((s) => pkg.scripts[s] !== undefined);
  if (pkg.workspaces || tree.names.has("pnpm-workspace.yaml")) {
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

  // start
  const start = await nodeStart(ctx, pkg, buildCmd !== undefined);
  reasons.start = start.reason;

  reasons.port = `PORT=${DEFAULT_PORT} is set in the image; the app must listen on $PORT`;
  const runtime = manager.pm === "bun" ? bunVersion(pkg) : await nodeVersion(tree, pkg);
  if (runtime.version) reasons.runtime = `${runtime.name === "bun" ? "Bun" : "Node.js"} ${runtime.version} (${runtime.versionFrom})`;

  return {
    kind: "node",
    packageManager: manager.pm,
    ...(manager.pm === "yarn" ? { yarnBerry: manager.berry } : {}),
    manifests,
    installCmd,
    buildCmd,
    pruneCmd,
    startCmd: start.cmd,
    port: DEFAULT_PORT,
    buildImage: runtime,
    runImage: runtime,
    reasons,
    warnings,
  };
}

async function choosePackageManager(tree: Tree, pkg: PackageJson, warnings: string[]): Promise<ManagerChoice> {
  const lockOf = (pm: PackageManager) => LOCKFILES[pm].find((f) => tree.names.has(f));
  const present = (["bun", "pnpm", "yarn", "npm"] as const).filter((pm) => lockOf(pm) !== undefined);
  const field = /^(npm|pnpm|yarn|bun)@(\d+)/.exec(pkg.packageManager ?? "");
  const fieldName = field?.[1];
  const fieldMajor = field ? Number(field[2]) : undefined;

  let pm: PackageManager;
  let reason: string;
  if (fieldName === "npm" || fieldName === "pnpm" || fieldName === "yarn" || fieldName === "bun") {
    pm = fieldName;
    reason = `"packageManager": ${JSON.stringify(pkg.packageManager)} in package.json`;
    if (!lockOf(pm) && present.length > 0) {
      warnings.push(`package.json asks for ${pm} but the lockfile is ${lockOf(present[0]!)}; installing with ${pm} without a lockfile`);
    }
  } else {
    if (pkg.packageManager) warnings.push(`"packageManager": ${JSON.stringify(pkg.packageManager)} is not supported by Kiln's builder; using the lockfile instead`);
    if (present.length > 0) {
      pm = present[0]!;
      reason = `found ${lockOf(pm)}`;
      if (present.length > 1) warnings.push(`several lockfiles (${present.map((p) => lockOf(p)).join(", ")}); using ${lockOf(pm)}`);
    } else {
      pm = "npm";
      reason = "no lockfile: npm";
    }
  }
  const lockfile = lockOf(pm);
  let berry = false;
  if (pm === "yarn") {
    if (fieldName === "yarn" && fieldMajor !== undefined) berry = fieldMajor >= 2;
    else berry = tree.names.has(".yarnrc.yml") || (lockfile !== undefined && ((await tree.head(lockfile, LOCK_HEAD.maxBytes)) ?? "").includes("__metadata:"));
    if (berry && fieldName !== "yarn") {
      warnings.push('a yarn 2+ project without "packageManager" in package.json: add e.g. "packageManager": "yarn@4.5.0" so the right yarn is used');
    }
  }
  return { pm, berry, lockfile, reason };
}

function installCommand(m: ManagerChoice, prodOnly: boolean): string {
  const locked = m.lockfile !== undefined;
  switch (m.pm) {
    case "npm":
      return `${locked ? "npm ci" : "npm install"}${prodOnly ? " --omit=dev" : ""}`;
    case "pnpm":
      return `corepack enable && pnpm install${locked ? " --frozen-lockfile" : ""}${prodOnly ? " --prod" : ""}`;
    case "bun":
      return `bun install${locked ? " --frozen-lockfile" : ""}${prodOnly ? " --production" : ""}`;
    case "yarn":
      if (m.berry) return `corepack enable && yarn install${locked ? " --immutable" : ""}`;
      return `corepack enable && yarn install${locked ? " --frozen-lockfile" : ""}${prodOnly ? " --production" : ""}`;
  }
}

function pruneCommand(m: ManagerChoice): string | undefined {
  switch (m.pm) {
    case "npm":
      return "npm prune --omit=dev";
    case "pnpm":
      return "pnpm prune --prod";
    case "bun":
      return `rm -rf node_modules && bun install --production${m.lockfile ? " --frozen-lockfile" : ""}`;
    case "yarn":
      if (m.berry) return undefined;
      return `yarn install --production --ignore-scripts --prefer-offline${m.lockfile ? " --frozen-lockfile" : ""}`;
  }
}

function manifestPaths(tree: Tree, m: ManagerChoice): string[] {
  const out = ["package.json"];
  if (m.lockfile) out.push(m.lockfile);
  for (const f of INSTALL_CONFIG) if (tree.names.has(f)) out.push(f);
  if (m.pm === "yarn" && m.berry && tree.names.has(".yarn")) out.push(".yarn/");
  return out;
}

async function nodeStart({ tree, railpack, procfileWeb }: DetectContext, pkg: PackageJson, hasBuild: boolean): Promise<{ cmd: string; reason: string }> {
  if (railpack?.start) return { cmd: railpack.start, reason: "deploy.startCommand in railpack.json" };
  if (procfileWeb) return { cmd: procfileWeb, reason: "the web: line of the Procfile" };
  if (pkg.scripts.start) {
    return { cmd: pkg.scripts.start, reason: "scripts.start in package.json, run by sh with node_modules/.bin on PATH" };
  }
  if (pkg.main) {
    const candidates = [pkg.main, `${pkg.main}.js`, join(pkg.main, "index.js")];
    for (const c of candidates) if (await tree.isFile(c)) return { cmd: `node ${shellWord(c)}`, reason: `"main": ${JSON.stringify(pkg.main)} in package.json` };
    if (hasBuild) return { cmd: `node ${shellWord(pkg.main)}`, reason: `"main": ${JSON.stringify(pkg.main)} in package.json (made by the build)` };
  }
  for (const file of ["index.js", "server.js"]) {
    if (await tree.isFile(file)) return { cmd: `node ${file}`, reason: `found ${file}` };
  }
  throw new StepError(
    "could not find how to start the app",
    'add a start script to package.json (e.g. "scripts": { "start": "node server.js" }), a Procfile with a web: line, ' +
      'deploy.startCommand in railpack.json, or an index.js / server.js at the root',
  );
}

/** Whether some release of Node `major` satisfies the semver range (loosely: its first or a late minor). */
export function majorSatisfies(major: number, range: string): boolean {
  try {
    return Bun.semver.satisfies(`${major}.0.0`, range) || Bun.semver.satisfies(`${major}.99999.0`, range);
  } catch {
    return true; // a range we cannot read: no warning rather than a wrong one
  }
}


/** The Node.js version the app asks for: .nvmrc, then .node-version, then engines.node (as Railpack reads them). */
async function nodeVersion(tree: Tree, pkg: PackageJson): Promise<RuntimeRequest> {
  for (const file of [".nvmrc", ".node-version"]) {
    const v = (await tree.text(file))?.split(/\r?\n/)[0]?.trim().replace(/^v(?=\d)/, "");
    if (v) return { name: "node", version: v, versionFrom: file };
  }
  if (pkg.enginesNode) return { name: "node", version: pkg.enginesNode, versionFrom: "engines.node in package.json" };
  return { name: "node" };
}

/** Bun apps run on Bun: the version "packageManager" names, else any. */
function bunVersion(pkg: PackageJson): RuntimeRequest {
  const m = /^bun@(\d[^+\s]*)/.exec(pkg.packageManager ?? "");
  return m ? { name: "bun", version: m[1], versionFrom: '"packageManager" in package.json' } : { name: "bun" };
}

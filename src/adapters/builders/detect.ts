/**
 * Zero-config detection: read a source tree and decide how to build and start it. The result,
 * an AppPlan, says what was chosen and why (`reasons`, shown in the build log), and
 * dockerfile-gen.ts turns it into a Dockerfile. Reads files only (through fs/beneath.ts: never
 * through a symbolic link out of the tree, at most 1 MiB each); never runs anything.
 *
 *   package.json            → a node app; the lockfile (or "packageManager") picks npm/pnpm/yarn
 *   Procfile web: (no pkg)  → the web command, run with sh
 *   index.html / public/    → a static site served by busybox httpd
 *   railpack.json           → its install/build commands and deploy.startCommand win
 */
import { join } from "node:path";
import { StepError } from "../../core/errors.ts";
import { isFileBeneath, readBeneath, readdirBeneath, statBeneath } from "../fs/beneath.ts";
import { jsonErrorWhere } from "./json-error.ts";
import { DETECTED, joinCommands, parseRailpackConfig, type RailpackCommands } from "./railpack-config.ts";

export type AppKind = "node" | "static" | "procfile";
export type PackageManager = "npm" | "pnpm" | "yarn";
export type PlanChoice = "kind" | "packageManager" | "install" | "build" | "start" | "port" | "node";

/** The port apps are told to listen on (ENV PORT in the image) unless their env says otherwise. */
export const DEFAULT_PORT = 3000;

export interface AppPlan {
  kind: AppKind;
  packageManager?: PackageManager;
  /** Yarn 2+ ("berry"): other install flags and cache than yarn 1. */
  yarnBerry?: boolean;
  /**
   * Paths copied before the install so its layer is reused until they change (directories end
   * in "/"). Empty: the install needs the whole tree, which is copied first.
   */
  manifests: string[];
  installCmd?: string;
  buildCmd?: string;
  /** Drops devDependencies after a build. */
  pruneCmd?: string;
  startCmd: string;
  /** kind "static": the directory served, relative to the app root. */
  staticDir?: string;
  port: number;
  /** package.json engines.node, as written. */
  nodeVersion?: string;
  /** Why each choice was made, for the build log. */
  reasons: Partial<Record<PlanChoice, string>>;
  warnings: string[];
}

export interface DetectOptions {
  /** Node major version of the base image, to check engines.node against. */
  nodeMajor?: number;
}

interface PackageJson {
  scripts: Record<string, string>;
  main?: string;
  packageManager?: string;
  enginesNode?: string;
  workspaces: boolean;
  /** Whether any dependencies, devDependencies or optionalDependencies are declared. */
  hasDependencies: boolean;
}

/** What is at the top of the tree, read once. */
interface Tree {
  dir: string;
  names: Set<string>;
  pkg: PackageJson | null;
  procfileWeb: string | undefined;
  railpack: RailpackCommands | null;
}

export async function detectApp(srcDir: string, opts: DetectOptions = {}): Promise<AppPlan> {
  const tree = await readTree(srcDir);
  const warnings = [...(tree.railpack?.warnings ?? [])];
  if (tree.pkg) return nodePlan(tree, tree.pkg, warnings, opts);
  const command = tree.railpack?.start ?? tree.procfileWeb;
  if (command !== undefined) return commandPlan(tree, warnings);
  const staticDir = (await isFileBeneath(srcDir, "index.html")) ? "." : (await isFileBeneath(srcDir, "public/index.html")) ? "public" : null;
  if (staticDir !== null) return staticPlan(staticDir, warnings);
  throw new StepError(
    "could not detect how to build this app",
    "Kiln looked for a Dockerfile, railpack.json (deploy.startCommand), package.json, a Procfile with a web: line, " +
      "and index.html or public/index.html; add one of them at the root of the source",
  );
}

/**
 * Every top-level name detection looks at. Each one present is checked through fs/beneath.ts, so a
 * symbolic link out of the tree under one of these names fails the build naming it.
 */
function lookedAt(): string[] {
  const entry = ["package.json", "Procfile", "railpack.json", "index.html", "public", "index.js", "server.js"];
  return [...entry, ...Object.values(LOCKFILES).flat(), ...INSTALL_CONFIG, ".yarn", "bun.lockb", "bun.lock"];
}

async function readTree(dir: string): Promise<Tree> {
  const names = new Set((await readdirBeneath(dir)).map((e) => e.name));
  for (const name of lookedAt()) if (names.has(name)) await statBeneath(dir, name);
  const text = (name: string) => (names.has(name) ? readBeneath(dir, name) : Promise.resolve(null));
  const pkgText = await text("package.json");
  const procfile = await text("Procfile");
  const railpackText = await text("railpack.json");
  return {
    dir,
    names,
    pkg: pkgText === null ? null : parsePackageJson(pkgText),
    procfileWeb: procfile === null ? undefined : parseProcfile(procfile).web,
    railpack: railpackText === null ? null : parseRailpackConfig(railpackText),
  };
}

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

/** Process types of a Procfile ("name: command" lines; # comments). */
export function parseProcfile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*:\s*(.+?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith("#")) out[m[1]!] = m[2]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// node

const LOCKFILES: Record<PackageManager, string[]> = {
  npm: ["package-lock.json", "npm-shrinkwrap.json"],
  pnpm: ["pnpm-lock.yaml"],
  yarn: ["yarn.lock"],
};
/** Config files the install reads, copied with the manifests when present. */
const INSTALL_CONFIG = [".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml", ".pnpmfile.cjs"];
/** Lifecycle scripts that run during install and may need the whole tree. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];
/** A yarn 2+ lockfile says `__metadata:` in its first lines: only its head is read. */
const LOCK_HEAD = { maxBytes: 64 * 1024, head: true };

interface ManagerChoice {
  pm: PackageManager;
  berry: boolean;
  lockfile?: string;
  reason: string;
}

async function nodePlan(tree: Tree, pkg: PackageJson, warnings: string[], opts: DetectOptions): Promise<AppPlan> {
  const reasons: AppPlan["reasons"] = { kind: "found package.json" };
  const manager = await choosePackageManager(tree, pkg, warnings);
  reasons.packageManager = manager.reason;
  const rp = tree.railpack;
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
  const start = await nodeStart(tree, pkg, buildCmd !== undefined);
  reasons.start = start.reason;

  reasons.port = `PORT=${DEFAULT_PORT} is set in the image; the app must listen on $PORT`;
  if (pkg.enginesNode) {
    reasons.node = `engines.node is ${JSON.stringify(pkg.enginesNode)}`;
    if (opts.nodeMajor !== undefined && !majorSatisfies(opts.nodeMajor, pkg.enginesNode)) {
      warnings.push(
        `package.json engines.node is ${JSON.stringify(pkg.enginesNode)} but the base image has Node.js ${opts.nodeMajor}; building with Node.js ${opts.nodeMajor}`,
      );
    }
  }

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
    nodeVersion: pkg.enginesNode,
    reasons,
    warnings,
  };
}

async function choosePackageManager(tree: Tree, pkg: PackageJson, warnings: string[]): Promise<ManagerChoice> {
  const lockOf = (pm: PackageManager) => LOCKFILES[pm].find((f) => tree.names.has(f));
  const present = (["pnpm", "yarn", "npm"] as const).filter((pm) => lockOf(pm) !== undefined);
  const field = /^(npm|pnpm|yarn|bun)@(\d+)/.exec(pkg.packageManager ?? "");
  const fieldName = field?.[1];
  const fieldMajor = field ? Number(field[2]) : undefined;

  let pm: PackageManager;
  let reason: string;
  if (fieldName === "npm" || fieldName === "pnpm" || fieldName === "yarn") {
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
  if (tree.names.has("bun.lockb") || tree.names.has("bun.lock")) {
    warnings.push("bun lockfiles are not supported by Kiln's builder; dependencies are installed with " + pm);
  }
  const lockfile = lockOf(pm);
  let berry = false;
  if (pm === "yarn") {
    if (fieldName === "yarn" && fieldMajor !== undefined) berry = fieldMajor >= 2;
    else berry = tree.names.has(".yarnrc.yml") || (lockfile !== undefined && ((await readBeneath(tree.dir, lockfile, LOCK_HEAD)) ?? "").includes("__metadata:"));
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

async function nodeStart(tree: Tree, pkg: PackageJson, hasBuild: boolean): Promise<{ cmd: string; reason: string }> {
  if (tree.railpack?.start) return { cmd: tree.railpack.start, reason: "deploy.startCommand in railpack.json" };
  if (tree.procfileWeb) return { cmd: tree.procfileWeb, reason: "the web: line of the Procfile" };
  if (pkg.scripts.start) {
    return { cmd: pkg.scripts.start, reason: "scripts.start in package.json, run by sh with node_modules/.bin on PATH" };
  }
  if (pkg.main) {
    const candidates = [pkg.main, `${pkg.main}.js`, join(pkg.main, "index.js")];
    for (const c of candidates) if (await isFileBeneath(tree.dir, c)) return { cmd: `node ${shellWord(c)}`, reason: `"main": ${JSON.stringify(pkg.main)} in package.json` };
    if (hasBuild) return { cmd: `node ${shellWord(pkg.main)}`, reason: `"main": ${JSON.stringify(pkg.main)} in package.json (made by the build)` };
  }
  for (const file of ["index.js", "server.js"]) {
    if (await isFileBeneath(tree.dir, file)) return { cmd: `node ${file}`, reason: `found ${file}` };
  }
  throw new StepError(
    "could not find how to start the app",
    'add a start script to package.json (e.g. "scripts": { "start": "node server.js" }), a Procfile with a web: line, ' +
      'deploy.startCommand in railpack.json, or an index.js / server.js at the root',
  );
}

// ---------------------------------------------------------------------------------------------
// procfile / static

function commandPlan(tree: Tree, warnings: string[]): AppPlan {
  const rp = tree.railpack;
  const fromRailpack = rp?.start !== undefined;
  const reasons: AppPlan["reasons"] = {
    kind: fromRailpack ? "railpack.json with deploy.startCommand and no package.json" : "a Procfile with a web: line and no package.json",
    start: fromRailpack ? "deploy.startCommand in railpack.json" : "the web: line of the Procfile",
    port: `PORT=${DEFAULT_PORT} is set in the image; the web process must listen on $PORT`,
  };
  const installCmd = rp?.install ? joinCommands(rp.install, undefined) : undefined;
  const buildCmd = rp?.build ? joinCommands(rp.build, undefined) : undefined;
  if (installCmd) reasons.install = "steps.install.commands in railpack.json";
  if (buildCmd) reasons.build = "steps.build.commands in railpack.json";
  return {
    kind: "procfile",
    manifests: [],
    installCmd,
    buildCmd,
    startCmd: (rp?.start ?? tree.procfileWeb)!,
    port: DEFAULT_PORT,
    reasons,
    warnings,
  };
}

function staticPlan(dir: string, warnings: string[]): AppPlan {
  const where = dir === "." ? "index.html at the root" : `${dir}/index.html`;
  return {
    kind: "static",
    manifests: [],
    staticDir: dir,
    startCmd: `busybox httpd -f -v -p "$PORT" -h ${dir === "." ? "." : shellWord(dir)}`,
    port: DEFAULT_PORT,
    reasons: {
      kind: `${where} and no package.json: a static site`,
      start: `busybox httpd serves ${dir === "." ? "the app root" : `${dir}/`}`,
      port: `httpd listens on $PORT (${DEFAULT_PORT} unless the app's environment sets it)`,
    },
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------

/** Whether some release of Node `major` satisfies the semver range (loosely: its first or a late minor). */
export function majorSatisfies(major: number, range: string): boolean {
  try {
    return Bun.semver.satisfies(`${major}.0.0`, range) || Bun.semver.satisfies(`${major}.99999.0`, range);
  } catch {
    return true; // a range we cannot read: no warning rather than a wrong one
  }
}

/** A path as one shell word (quoted when it holds anything but safe characters). */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

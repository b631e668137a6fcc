/**
 * Which package manager installs a Node app, and the commands it runs. The order is Railpack's:
 * "packageManager" in package.json; else the most specific lockfile (pnpm-lock.yaml, bun.lock /
 * bun.lockb, yarn.lock: each names one tool, where a package-lock.json is often an accident of
 * someone running npm once); else engines.pnpm / .bun / .yarn; else npm. Several lockfiles are
 * warned about, naming the one used and why. pnpm's major follows "packageManager", engines.pnpm
 * or the lockfile's format (a v6 lockfile needs pnpm 8: the newest pnpm would refuse it frozen).
 */
import type { PackageManager } from "../plan.ts";
import type { Tree } from "../tree.ts";
import type { PackageJson } from "./package-json.ts";

export const LOCKFILES: Record<PackageManager, string[]> = {
  pnpm: ["pnpm-lock.yaml"],
  bun: ["bun.lock", "bun.lockb"],
  yarn: ["yarn.lock"],
  npm: ["package-lock.json", "npm-shrinkwrap.json"],
};
/** Most specific first. */
const LOCK_ORDER: PackageManager[] = ["pnpm", "bun", "yarn", "npm"];
/** Config files the install reads, copied with the manifests when present. */
export const INSTALL_CONFIG = [".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml", ".pnpmfile.cjs"];
/** Only the head of a lockfile is read: its format is named in the first lines. */
const LOCK_HEAD_BYTES = 64 * 1024;

export interface ManagerChoice {
  pm: PackageManager;
  berry: boolean;
  lockfile?: string;
  /** For pnpm without "packageManager": the major to install with corepack (from engines.pnpm or the lockfile). */
  pnpmVersion?: string;
  reason: string;
}

export async function choosePackageManager(tree: Tree, pkg: PackageJson, warnings: string[]): Promise<ManagerChoice> {
  const lockOf = (pm: PackageManager) => LOCKFILES[pm].find((f) => tree.has(f));
  const present = LOCK_ORDER.filter((pm) => lockOf(pm) !== undefined);
  const field = /^(npm|pnpm|yarn|bun)@(\d+)/.exec(pkg.packageManager ?? "");
  const fieldName = field?.[1] as PackageManager | undefined;
  const fieldMajor = field ? Number(field[2]) : undefined;

  let pm: PackageManager;
  let reason: string;
  if (fieldName) {
    pm = fieldName;
    reason = `"packageManager": ${JSON.stringify(pkg.packageManager)} in package.json`;
    if (!lockOf(pm) && present.length > 0) {
      warnings.push(`package.json asks for ${pm} but the lockfile is ${lockOf(present[0]!)}; installing with ${pm} without a lockfile`);
    } else if (present.length > 1) {
      warnings.push(`several lockfiles (${present.map((p) => lockOf(p)).join(", ")}); using ${lockOf(pm)}, as "packageManager" says`);
    }
  } else {
    if (pkg.packageManager) warnings.push(`"packageManager": ${JSON.stringify(pkg.packageManager)} is not supported by Kiln's builder; using the lockfile instead`);
    const engine = (["pnpm", "bun", "yarn"] as const).find((k) => pkg.engines[k]);
    if (present.length > 0) {
      pm = present[0]!;
      reason = `found ${lockOf(pm)}`;
      if (present.length > 1) {
        warnings.push(
          `several lockfiles (${present.map((p) => lockOf(p)).join(", ")}); using ${lockOf(pm)}, the most specific. ` +
            `Delete the others, or set "packageManager" in package.json to choose`,
        );
      }
    } else if (engine) {
      pm = engine;
      reason = `engines.${engine} in package.json`;
    } else {
      pm = "npm";
      reason = "no lockfile: npm";
    }
  }
  const lockfile = lockOf(pm);
  const head = lockfile && pm !== "bun" ? ((await tree.head(lockfile, LOCK_HEAD_BYTES)) ?? "") : "";
  let berry = false;
  if (pm === "yarn") {
    if (fieldName === "yarn" && fieldMajor !== undefined) berry = fieldMajor >= 2;
    else if (pkg.engines.yarn) berry = !/^[\^~>=v\s]*1(\.|$|\s)/.test(pkg.engines.yarn);
    else berry = tree.has(".yarnrc.yml") || head.includes("__metadata:");
    if (berry && fieldName !== "yarn") {
      warnings.push('a yarn 2+ project without "packageManager" in package.json: add e.g. "packageManager": "yarn@4.5.0" so the right yarn is used');
    }
  }
  const choice: ManagerChoice = { pm, berry, lockfile, reason };
  if (pm === "pnpm" && fieldName !== "pnpm") {
    const fromLock = pnpmMajorOfLockfile(head);
    if (pkg.engines.pnpm) {
      choice.pnpmVersion = pkg.engines.pnpm;
      choice.reason += `; pnpm ${pkg.engines.pnpm} (engines.pnpm)`;
    } else if (fromLock) {
      choice.pnpmVersion = fromLock;
      choice.reason += `; pnpm ${fromLock} (the lockfile's format)`;
    }
  }
  return choice;
}

/** The pnpm major that writes a lockfile of this format (as Railpack maps it). */
export function pnpmMajorOfLockfile(head: string): string | undefined {
  const m = /^lockfileVersion:\s*['"]?(\d+)\.(\d+)/m.exec(head);
  if (!m) return undefined;
  const v = `${m[1]}.${m[2]}`;
  if (v === "5.3") return "6";
  if (v === "5.4") return "7";
  if (m[1] === "6") return "8";
  if (m[1] === "9") return "9";
  return undefined;
}

export function installCommand(m: ManagerChoice, prodOnly: boolean): string {
  const locked = m.lockfile !== undefined;
  switch (m.pm) {
    case "npm":
      return `${locked ? "npm ci" : "npm install"}${prodOnly ? " --omit=dev" : ""}`;
    case "pnpm":
      return `${corepackPnpm(m)} && pnpm install${locked ? " --frozen-lockfile" : ""}${prodOnly ? " --prod" : ""}`;
    case "bun":
      return `bun install${locked ? " --frozen-lockfile" : ""}${prodOnly ? " --production" : ""}`;
    case "yarn":
      if (m.berry) return `corepack enable && yarn install${locked ? " --immutable" : ""}`;
      return `corepack enable && yarn install${locked ? " --frozen-lockfile" : ""}${prodOnly ? " --production" : ""}`;
  }
}

function corepackPnpm(m: ManagerChoice): string {
  if (!m.pnpmVersion) return "corepack enable";
  return `corepack enable && corepack install -g ${shellArg(`pnpm@${m.pnpmVersion}`)}`;
}

export function pruneCommand(m: ManagerChoice): string | undefined {
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

export function manifestPaths(tree: Tree, m: ManagerChoice): string[] {
  const out = ["package.json"];
  if (m.lockfile) out.push(m.lockfile);
  for (const f of INSTALL_CONFIG) if (tree.has(f)) out.push(f);
  if (m.pm === "yarn" && m.berry && tree.has(".yarn")) out.push(".yarn/");
  return out;
}

function shellArg(s: string): string {
  return /^[A-Za-z0-9_.@^~<>=*-]+$/.test(s) && !/[<>]/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

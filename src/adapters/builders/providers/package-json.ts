/**
 * package.json, read for detection: scripts, entry points, the package manager and engines it
 * names, and which packages it depends on (runtime and dev-only apart).
 */
import { StepError } from "../../../core/errors.ts";
import { jsonErrorWhere } from "../json-error.ts";

export interface PackageJson {
  scripts: Record<string, string>;
  main?: string;
  packageManager?: string;
  /** engines.node / engines.pnpm / engines.yarn / engines.bun, as written. */
  engines: Partial<Record<"node" | "pnpm" | "yarn" | "bun", string>>;
  workspaces: boolean;
  /** dependencies and optionalDependencies. */
  deps: Set<string>;
  devDeps: Set<string>;
  /** Whether any dependencies, devDependencies or optionalDependencies are declared. */
  hasDependencies: boolean;
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
  if (isObject(obj.scripts)) {
    for (const [k, v] of Object.entries(obj.scripts)) if (typeof v === "string" && v.trim()) scripts[k] = v.trim();
  }
  const rawEngines = isObject(obj.engines) ? obj.engines : {};
  const engines: PackageJson["engines"] = {};
  for (const k of ["node", "pnpm", "yarn", "bun"] as const) {
    const v = rawEngines[k];
    if (typeof v === "string" && v.trim()) engines[k] = v.trim();
  }
  const names = (k: string) => (isObject(obj[k]) ? Object.keys(obj[k] as object) : []);
  const deps = new Set([...names("dependencies"), ...names("optionalDependencies")]);
  const devDeps = new Set(names("devDependencies"));
  return {
    scripts,
    main: typeof obj.main === "string" && obj.main.trim() ? obj.main.trim() : undefined,
    packageManager: typeof obj.packageManager === "string" ? obj.packageManager.trim() : undefined,
    engines,
    workspaces: obj.workspaces !== undefined,
    deps,
    devDeps,
    hasDependencies: deps.size + devDeps.size > 0,
  };
}

/** Whether the app depends on `name`, at run time or for development. */
export function dependsOn(pkg: PackageJson, name: string): boolean {
  return pkg.deps.has(name) || pkg.devDeps.has(name);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * What a Python app's manifests say: the packages it declares (requirements.txt, pyproject.toml's
 * [project] and [tool.poetry] dependencies, Pipfile's [packages]) and the Python version it asks
 * for. Pure over the files' text; TOML through Bun's parser.
 */
import { StepError } from "../../../core/errors.ts";
import type { RuntimeRequest } from "../plan.ts";

export interface Requirements {
  /** Normalised names (PEP 503: lower case, runs of -_. as "-") of the packages listed. */
  packages: string[];
  /** A line that reads other files (-r, -c, -e, --find-links, a local path): the install needs the whole tree. */
  readsTree: boolean;
}

/** Options that name files or directories of the app. */
const TREE_OPTIONS = /(^|\s)(-[rcef]|--requirement|--constraint|--editable|--find-links)(?=[\s=]|$)/;

export function parseRequirements(text: string): Requirements {
  const packages: string[] = [];
  let readsTree = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    if (line.startsWith("-")) {
      if (TREE_OPTIONS.test(line)) readsTree = true;
      continue;
    }
    if (/^(\.|\/|file:)/.test(line) || line.includes("file://")) {
      readsTree = true;
      continue;
    }
    const name = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(line)?.[0];
    if (name) packages.push(normalizeName(name));
  }
  return { packages, readsTree };
}

export interface PyProject {
  /** [project] dependencies and [tool.poetry.dependencies] (without python), normalised. */
  packages: string[];
  /** [project] requires-python, else Poetry's python dependency. */
  requiresPython?: string;
  /** Local path or file:// dependencies, or a uv workspace: the install needs the whole tree. */
  readsTree: boolean;
}

export function parsePyProject(text: string): PyProject {
  const doc = parseToml(text, "pyproject.toml");
  const project = table(doc.project);
  const poetry = table(table(doc.tool).poetry);
  const poetryDeps = table(poetry.dependencies);
  const packages = [
    ...(Array.isArray(project.dependencies) ? project.dependencies.filter((d): d is string => typeof d === "string") : [])
      .map((d) => /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(d.trim())?.[0])
      .filter((n): n is string => n !== undefined),
    ...Object.keys(poetryDeps).filter((k) => k.toLowerCase() !== "python"),
  ].map(normalizeName);
  const poetryPython = poetryDeps.python;
  const requiresPython =
    typeof project["requires-python"] === "string" ? project["requires-python"] : typeof poetryPython === "string" ? poetryPython : undefined;
  const readsTree = text.includes("file://") || /\bpath\s*=/.test(text) || table(table(doc.tool).uv).workspace !== undefined;
  return { packages, requiresPython, readsTree };
}

export interface Pipfile {
  packages: string[];
  /** [requires] python_full_version, else python_version. */
  python?: string;
}

export function parsePipfile(text: string): Pipfile {
  const doc = parseToml(text, "Pipfile");
  const requires = table(doc.requires);
  const full = requires.python_full_version;
  const short = requires.python_version;
  return {
    packages: Object.keys(table(doc.packages)).map(normalizeName),
    python: typeof full === "string" ? full : typeof short === "string" ? short : undefined,
  };
}

/** PEP 503's normal form: "Flask_SQLAlchemy" → "flask-sqlalchemy". */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

export interface VersionSources {
  pythonVersion: string | null;
  runtimeTxt: string | null;
  pipfile?: Pipfile;
  pyproject?: PyProject;
}

/**
 * The Python version asked for, as Railpack reads it (mise's .python-version over runtime.txt
 * over Pipfile), then pyproject's requires-python, which Railpack does not read.
 */
export function pythonVersion(src: VersionSources): RuntimeRequest {
  const fromFile = src.pythonVersion?.split(/\r?\n/).map((l) => l.trim()).find((l) => l && !l.startsWith("#"));
  if (fromFile) return { name: "python", version: fromFile, versionFrom: ".python-version" };
  const runtime = src.runtimeTxt?.trim().replace(/^python-/i, "");
  if (runtime) return { name: "python", version: runtime, versionFrom: "runtime.txt" };
  if (src.pipfile?.python) return { name: "python", version: src.pipfile.python, versionFrom: "[requires] in Pipfile" };
  if (src.pyproject?.requiresPython) return { name: "python", version: src.pyproject.requiresPython, versionFrom: "requires-python in pyproject.toml" };
  return { name: "python" };
}

function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    return table(Bun.TOML.parse(text));
  } catch (err) {
    // Bun's message names the problem, never the file's text.
    const why = err instanceof Error ? err.message.replace(/^TOML Parse error: /, "") : String(err);
    throw new StepError(`${file} is not valid TOML: ${why}`, `fix the syntax of ${file}`);
  }
}

function table(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

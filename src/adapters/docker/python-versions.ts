/**
 * The Python version an app asks for, read the way the runtime images need it: pure.
 *
 * The text comes from .python-version ("3.12", "3.11.4"), runtime.txt ("python-3.11.4", read by
 * the provider), Pipfile's python_version, or pyproject's requires-python (">=3.10,<3.13",
 * "~=3.11") and Poetry's python ("^3.11"). A bare version or `==` is a prefix ("3.11" is any
 * 3.11.x, as pyenv reads .python-version); the other operators compare as PEP 440 does, with
 * missing parts as zeros. The minors that satisfy it are the official images to try, newest first:
 *
 *   const range = readPythonRange(">=3.10,<3.13");   // { minors: ["3.12", "3.11", "3.10"], … }
 *   officialPythonTag(range.minors[0]!);              // "python:3.12-slim"
 *   pythonSatisfies(range, "3.11.2");                 // true
 */

/** Minors with an official python:<minor>-slim image, newest first. Add the new one each October. */
export const PYTHON_MINORS: readonly string[] = ["3.14", "3.13", "3.12", "3.11", "3.10", "3.9"];
/** What an app that asks for nothing gets when a registry answers (Railpack's default). */
export const DEFAULT_PYTHON_MINOR = "3.13";

type Op = "!=" | ">=" | "<=" | ">" | "<" | "prefix";
interface Clause {
  op: Op;
  version: number[];
}

export interface PythonRange {
  /** As the app wrote it. */
  text: string;
  clauses: Clause[];
  /** The minors ("3.12") that satisfy it whose images are worth trying, newest first. */
  minors: string[];
}

/** The range a version text means, or null when Kiln cannot read it ("pypy3.10", "system"). */
export function readPythonRange(text: string): PythonRange | null {
  const clauses: Clause[] = [];
  for (const part of text.trim().split(/\s*,\s*|\s+(?=[<>=!~^])/)) {
    if (!part) continue;
    const parsed = readClause(part);
    if (!parsed) return null;
    clauses.push(...parsed);
  }
  if (clauses.length === 0) return null;
  const range: PythonRange = { text, clauses, minors: [] };
  const named = clauses.map((c) => c.version.slice(0, 2).join(".")).filter((m) => /^3\.\d+$/.test(m));
  const candidates = [...new Set([...PYTHON_MINORS, ...named])].sort((a, b) => compare(parse(b)!, parse(a)!));
  range.minors = candidates.filter((m) => minorSatisfies(range, m));
  return range;
}

function readClause(part: string): Clause[] | null {
  const m = /^(===|==|!=|>=|<=|~=|>|<|\^|~)?\s*v?(\d+(?:\.\d+){0,2})(\.\*)?$/.exec(part.replace(/^python-?/i, ""));
  if (!m) return null;
  const version = parse(m[2]!)!;
  const op = m[1] ?? "";
  if (op === "" || op === "==" || op === "===") return [{ op: "prefix", version }];
  if (op === "!=") return [{ op: "!=", version }]; // as a prefix too: != 3.11 rules out every 3.11.x
  if (op === "~=") {
    // ~=3.11 → >=3.11, ==3.*; ~=3.11.2 → >=3.11.2, ==3.11.*
    return version.length < 2 ? null : [{ op: ">=", version }, { op: "prefix", version: version.slice(0, -1) }];
  }
  if (op === "^") return [{ op: ">=", version }, { op: "<", version: [version[0]! + 1] }];
  if (op === "~") return [{ op: ">=", version }, { op: "<", version: version.length > 1 ? [version[0]!, version[1]! + 1] : [version[0]! + 1] }];
  return [{ op: op as Op, version }];
}

/** Whether a full version ("3.11.2") satisfies the range. */
export function pythonSatisfies(range: Pick<PythonRange, "clauses">, version: string): boolean {
  const v = parse(version);
  if (!v) return false;
  return range.clauses.every((c) => {
    switch (c.op) {
      case "prefix":
        return c.version.every((part, i) => v[i] === part);
      case "!=":
        return !c.version.every((part, i) => v[i] === part);
      case ">=":
        return compare(v, c.version) >= 0;
      case "<=":
        return compare(v, c.version) <= 0;
      case ">":
        return compare(v, c.version) > 0;
      case "<":
        return compare(v, c.version) < 0;
    }
  });
}

/** Whether some release of a minor ("3.11") satisfies the range: its first, a late one, or one the range names. */
export function minorSatisfies(range: Pick<PythonRange, "clauses">, minor: string): boolean {
  const named = range.clauses.map((c) => c.version).filter((v) => v.length === 3 && `${v[0]}.${v[1]}` === minor).map((v) => v.join("."));
  return [`${minor}.0`, `${minor}.999`, ...named].some((v) => pythonSatisfies(range, v));
}

/** The official slim image of a minor. */
export function officialPythonTag(minor: string): string {
  return `python:${minor}-slim`;
}

/** "3.11.2" → "3.11". */
export function pythonMinorOf(version: string): string | undefined {
  return /^(\d+\.\d+)/.exec(version.trim())?.[1];
}

function parse(text: string): number[] | null {
  return /^\d+(\.\d+)*$/.test(text) ? text.split(".").map(Number) : null;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

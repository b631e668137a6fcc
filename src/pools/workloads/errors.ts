/**
 * What goes wrong in a workload file, said so it can be fixed: the file, the field path
 * (e.g. `pool.max_size`, `sync.mappings[0].path`) and the problem. Never carries a secret value.
 */
import { KilnError } from "../../core/errors.ts";

export type FieldPath = readonly (string | number)[];

export class WorkloadSpecError extends KilnError {
  /** The problem alone, without file and field (for a UI that shows those separately). */
  readonly problem: string;

  constructor(
    readonly file: string,
    /** Dotted path of the field, or null when the problem is the whole file (e.g. YAML syntax). */
    readonly field: string | null,
    problem: string,
    hint?: string,
  ) {
    super("bad_request", field ? `${file}: ${field}: ${problem}` : `${file}: ${problem}`, hint);
    this.name = "WorkloadSpecError";
    this.problem = problem;
  }
}

/** How `loadWorkloadDir` and the watcher report a file that could not be used. */
export type WorkloadLoadError = WorkloadSpecError;

/** ["sync", "mappings", 0, "path"] → "sync.mappings[0].path". */
export function formatFieldPath(path: FieldPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** Collects problems for one file, so a file reports all of them at once. */
export class ProblemList {
  readonly errors: WorkloadSpecError[] = [];
  constructor(readonly file: string) {}

  add(path: FieldPath | string | null, problem: string, hint?: string): void {
    const field = path === null ? null : typeof path === "string" ? path : formatFieldPath(path) || null;
    this.errors.push(new WorkloadSpecError(this.file, field, problem, hint));
  }

  get empty(): boolean {
    return this.errors.length === 0;
  }
}

const normalize = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");

/** Edits (insert, delete, replace, swap two neighbours) to turn a into b. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | null {
  const w = normalize(word);
  let best: string | null = null;
  let bestDist = Infinity;
  for (const k of known) {
    const d = normalize(k) === w ? 0 : editDistance(w, normalize(k));
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  const limit = Math.max(1, Math.floor(w.length / 3));
  return best !== null && bestDist <= limit ? best : null;
}

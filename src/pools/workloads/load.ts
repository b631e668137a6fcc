/**
 * Workload files → WorkloadSpecs: YAML → env interpolation → schema → cross-field checks → hash.
 * A file's problems are all reported at once; a bad file never hides the good ones.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { WorkloadSpec } from "../../core/workload.ts";
import { ProblemList, WorkloadSpecError, type WorkloadLoadError } from "./errors.ts";
import { interpolateTree, type UsedEnv, type WorkloadEnv } from "./interpolate.ts";
import { WorkloadFileSchema, issueProblems } from "./schema.ts";
import { toWorkload } from "./to-workload.ts";
import { parseYaml } from "./yaml.ts";

export type { WorkloadEnv } from "./interpolate.ts";

export interface WorkloadLoadResult {
  workloads: WorkloadSpec[];
  errors: WorkloadLoadError[];
}

export type ParsedWorkload = { ok: true; spec: WorkloadSpec } | { ok: false; errors: WorkloadSpecError[] };

const MAX_FILE_BYTES = 1024 * 1024;

/** *.yaml / *.yml, not hidden (editors' swap and backup files are skipped too). */
export function isWorkloadFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !name.startsWith(".");
}

/** sha256 of the file's text and of the env values it used (so a changed secret is a change). */
export function workloadHash(text: string, used: UsedEnv): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(text);
  h.update("\0");
  h.update(JSON.stringify([...used.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return h.digest("hex");
}

const typeName = (v: unknown) => (v === null ? "empty" : Array.isArray(v) ? "a list" : typeof v);

/** One file's text → its spec, or every problem found in it. Pure. */
export function parseWorkload(text: string, file: string, env: WorkloadEnv): ParsedWorkload {
  let tree: unknown;
  try {
    tree = parseYaml(text, file);
  } catch (err) {
    if (err instanceof WorkloadSpecError) return { ok: false, errors: [err] };
    throw err;
  }
  if (tree === null || typeof tree !== "object" || Array.isArray(tree)) {
    const problem = tree === null || tree === undefined ? "is empty: a workload needs at least id and image" : `must be a mapping of workload fields (id, image, …), not ${typeName(tree)}`;
    return { ok: false, errors: [new WorkloadSpecError(file, null, problem)] };
  }
  const problems = new ProblemList(file);
  const { value, used } = interpolateTree(tree, env, problems);
  const parsed = WorkloadFileSchema.safeParse(value);
  if (!parsed.success) {
    for (const iss of parsed.error.issues) for (const p of issueProblems(iss)) problems.add(p.path, p.message);
    return { ok: false, errors: redactEnvValues(problems.errors, used) };
  }
  if (!problems.empty) return { ok: false, errors: redactEnvValues(problems.errors, used) };
  const spec = toWorkload(parsed.data, file, workloadHash(text, used), problems);
  return problems.empty ? { ok: true, spec } : { ok: false, errors: redactEnvValues(problems.errors, used) };
}

/** Values shorter than this are left in messages (a 1–3 character value is no secret, and common). */
const MIN_REDACTED_LENGTH = 4;

/**
 * A problem may quote a value, and a value may have come from Kiln's environment (`${S3_SECRET}`):
 * every such value in a message is replaced with `<value of NAME>`, so no secret reaches the API or logs.
 */
function redactEnvValues(errors: WorkloadSpecError[], used: UsedEnv): WorkloadSpecError[] {
  const values = [...used.entries()].filter((e): e is [string, string] => e[1] !== null && e[1].length >= MIN_REDACTED_LENGTH).sort((a, b) => b[1].length - a[1].length);
  if (values.length === 0) return errors;
  const redact = (s: string) => values.reduce((out, [name, value]) => out.split(value).join(`<value of ${name}>`), s);
  return errors.map((e) => {
    const problem = redact(e.problem);
    const hint = e.hint === undefined ? undefined : redact(e.hint);
    return problem === e.problem && hint === e.hint ? e : new WorkloadSpecError(e.file, e.field, problem, hint);
  });
}

async function readWorkloadText(path: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WorkloadSpecError(path, null, code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? "error"})`);
  }
  if (size > MAX_FILE_BYTES) throw new WorkloadSpecError(path, null, `is larger than ${MAX_FILE_BYTES / 1024} KiB: is it really a workload file?`);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new WorkloadSpecError(path, null, `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** Loads one file; throws its first WorkloadSpecError (the hint says how many more there are). */
export async function loadWorkloadFile(path: string, env: WorkloadEnv): Promise<WorkloadSpec> {
  const r = parseWorkload(await readWorkloadText(path), path, env);
  if (r.ok) return r.spec;
  const [first, ...more] = r.errors;
  if (more.length === 0) throw first!;
  throw new WorkloadSpecError(first!.file, first!.field, first!.problem, `${first!.hint ? `${first!.hint}; ` : ""}${more.length} more problem(s) in this file: ${more.map((e) => e.field ?? "file").join(", ")}`);
}

/** The workload files in `dir`, sorted by name (full paths). */
export async function listWorkloadFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isWorkloadFileName(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/**
 * Ids must be unique across files. The file that already had the id (`owners`: id → file, e.g.
 * from the last load) keeps it, else the first by file name; the others get an error naming it.
 */
export function rejectDuplicateIds(specs: WorkloadSpec[], owners: ReadonlyMap<string, string> = new Map()): WorkloadLoadResult {
  const ordered = [...specs].sort((a, b) => Number(owners.get(b.id) === b.file) - Number(owners.get(a.id) === a.file) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const byId = new Map<string, WorkloadSpec>();
  const errors: WorkloadLoadError[] = [];
  for (const w of ordered) {
    const holder = byId.get(w.id);
    if (holder) errors.push(new WorkloadSpecError(w.file, "id", `"${w.id}" is already the id of ${holder.file}`, "ids must be unique across workload files"));
    else byId.set(w.id, w);
  }
  const workloads = specs.filter((w) => byId.get(w.id) === w);
  return { workloads, errors };
}

export interface FileOutcome {
  file: string;
  parsed: ParsedWorkload;
}

/** Reads and parses every workload file in `dir` (no duplicate check). */
export async function parseWorkloadDir(dir: string, env: WorkloadEnv): Promise<FileOutcome[]> {
  const files = await listWorkloadFiles(dir);
  return Promise.all(
    files.map(async (file): Promise<FileOutcome> => {
      try {
        return { file, parsed: parseWorkload(await readWorkloadText(file), file, env) };
      } catch (err) {
        if (err instanceof WorkloadSpecError) return { file, parsed: { ok: false, errors: [err] } };
        throw err;
      }
    }),
  );
}

/** Every workload in `dir`, and what is wrong with the files that could not be used. */
export async function loadWorkloadDir(dir: string, env: WorkloadEnv): Promise<WorkloadLoadResult> {
  let outcomes: FileOutcome[];
  try {
    outcomes = await parseWorkloadDir(dir, env);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "no such directory" : code === "ENOTDIR" ? "is not a directory" : `cannot be listed (${code ?? String(err)})`;
    return { workloads: [], errors: [new WorkloadSpecError(dir, null, problem, "create it, or point Kiln's workloads folder elsewhere")] };
  }
  const specs: WorkloadSpec[] = [];
  const errors: WorkloadLoadError[] = [];
  for (const o of outcomes) {
    if (o.parsed.ok) specs.push(o.parsed.spec);
    else errors.push(...o.parsed.errors);
  }
  const deduped = rejectDuplicateIds(specs);
  return { workloads: deduped.workloads, errors: [...errors, ...deduped.errors] };
}

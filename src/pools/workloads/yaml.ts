/**
 * YAML text → a value, with Bun's parser. Bun's errors don't say where in the text the problem
 * is, so on failure the line is found by parsing growing prefixes of the file: the error is on
 * the first line from which every longer prefix fails too.
 */
import { WorkloadSpecError } from "./errors.ts";

/** Files longer than this get the error without a line (finding it is quadratic). */
const MAX_LINES_TO_LOCATE = 2000;

const parses = (text: string): boolean => {
  try {
    Bun.YAML.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** The 1-based line a YAML syntax error is on, or null if it can't be told. */
export function locateYamlError(text: string): number | null {
  const lines = text.split("\n");
  if (lines.length > MAX_LINES_TO_LOCATE) return null;
  let line: number | null = null;
  for (let n = lines.length; n >= 1; n--) {
    if (parses(lines.slice(0, n).join("\n"))) break;
    line = n;
  }
  return line;
}

function yamlReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^YAML Parse error:\s*/, "");
}

/** Parses one YAML document; throws a WorkloadSpecError naming the file and line. */
export function parseYaml(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = Bun.YAML.parse(text);
  } catch (err) {
    const line = locateYamlError(text);
    throw new WorkloadSpecError(file, null, `${line ? `line ${line}: ` : ""}YAML syntax error: ${yamlReason(err)}`, "check indentation (spaces, not tabs), quotes and brackets");
  }
  if (/^---\s*$/m.test(text) && Array.isArray(value) && text.split(/^---\s*$/m).filter((d) => d.trim() !== "").length > 1) {
    throw new WorkloadSpecError(file, null, "has several YAML documents (---): put one workload in each file");
  }
  return value;
}

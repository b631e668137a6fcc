/**
 * YAML text → a value, with Bun's parser. Bun's errors don't say where in the text the problem
 * is, so on failure the line is found by parsing growing prefixes of the file: the error is on
 * the first line from which every longer prefix fails too.
 */
import { WorkloadSpecError } from "./errors.ts";

/** Finding the line is quadratic: past this many lines, or bytes parsed in all, the error has no line. */
const MAX_LINES_TO_LOCATE = 2000;
const MAX_BYTES_TO_LOCATE = 32 * 1024 * 1024;

/**
 * Aliases (`*a`) share one value, which every later step (interpolation, the schema) walks once
 * per reference: a small file of nested aliases ("billion laughs") would expand to millions of
 * values. Bun refuses only far larger ones, so the expanded size is capped here, counted with
 * every alias expanded: no workload comes near either cap.
 */
const MAX_EXPANDED_VALUES = 100_000;
const MAX_EXPANDED_CHARS = 4 * 1024 * 1024;

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
  let budget = MAX_BYTES_TO_LOCATE;
  for (let n = lines.length; n >= 1; n--) {
    const prefix = lines.slice(0, n).join("\n");
    budget -= prefix.length;
    if (budget < 0) return null;
    if (parses(prefix)) break;
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
    // Bun refuses an alias bomb as a whole; re-parsing its prefixes to find a line would redo the expansion.
    if (/excessive aliasing/i.test(yamlReason(err))) throw aliasBomb(file);
    const line = locateYamlError(text);
    throw new WorkloadSpecError(file, null, `${line ? `line ${line}: ` : ""}YAML syntax error: ${yamlReason(err)}`, "check indentation (spaces, not tabs), quotes and brackets");
  }
  if (/^---\s*$/m.test(text) && Array.isArray(value) && text.split(/^---\s*$/m).filter((d) => d.trim() !== "").length > 1) {
    throw new WorkloadSpecError(file, null, "has several YAML documents (---): put one workload in each file");
  }
  if (expandsTooFar(value)) throw aliasBomb(file);
  return value;
}

function aliasBomb(file: string): WorkloadSpecError {
  return new WorkloadSpecError(
    file,
    null,
    `expands to more than ${MAX_EXPANDED_VALUES} values or ${MAX_EXPANDED_CHARS / (1024 * 1024)} MiB of text once its aliases (*name) are expanded`,
    "write the values out, or use fewer nested aliases",
  );
}

/** Whether the value, with every alias expanded, is over the caps. Stops counting at the caps. */
function expandsTooFar(root: unknown): boolean {
  let values = 0;
  let chars = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (++values > MAX_EXPANDED_VALUES) return true;
    if (typeof node === "string") {
      chars += node.length;
      if (chars > MAX_EXPANDED_CHARS) return true;
    } else if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
    } else if (node !== null && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        chars += k.length;
        stack.push(v);
      }
    }
  }
  return false;
}

/** Command-line parsing for the client commands: node's parseArgs, its refusals turned into UsageErrors (exit 2). */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** The user typed something the command does not accept: exit code 2, with the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Flags every client command accepts. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export interface Parsed<O extends OptionSpec> {
  values: ReturnType<typeof parseArgs<{ options: O & typeof GLOBAL_OPTIONS; allowPositionals: true; strict: true }>>["values"];
  positionals: string[];
}

export function parse<O extends OptionSpec>(args: string[], options: O): Parsed<O> {
  try {
    const r = parseArgs({ args, options: { ...options, ...GLOBAL_OPTIONS }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed<O>["values"], positionals: r.positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, "") : String(err));
  }
}

/** Exactly `names.length` positionals (the trailing `optional` ones may be missing). */
export function positionals(got: string[], names: string[], optional = 0): string[] {
  const min = names.length - optional;
  if (got.length < min) throw new UsageError(`missing ${names.slice(got.length, min).map((n) => `<${n}>`).join(" ")}`);
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])}`);
  return got;
}

/** A non-negative integer flag value. */
export function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Env variables as typed on the command line (KEY=VALUE) or kept in a .env file, parsed to the
 * API's {NAME: value} (pure). Values may be secrets: no message here ever repeats one — a bad
 * argument is named by its position or its key only.
 *
 *   parseEnvPairs(["A=1", "B=x=y"], "env set")   // {A: "1", B: "x=y"}
 *   parseDotenv("# c\nexport A='1'\nB=2\n")       // {A: "1", B: "2"}
 */
import { UsageError } from "./args.ts";

/** Shell-style names, as the server checks them (it has the last word, e.g. on PORT). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** KEY=VALUE pairs; `what` names the flag or command in messages ("--env", "env set"). */
export function parseEnvPairs(pairs: string[], what: string): Record<string, string> {
  const env: Record<string, string> = {};
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`${what} takes KEY=VALUE: argument ${i + 1} has ${eq === 0 ? "no KEY before the '='" : "no '='"} (its value is not shown)`);
    env[checkName(pair.slice(0, eq), what)] = pair.slice(eq + 1);
  });
  return env;
}

/** Names only (env unset). */
export function parseEnvNames(names: string[], what: string): string[] {
  for (const n of names) {
    if (n.includes("=")) throw new UsageError(`${what} takes names only, not KEY=VALUE (argument ${names.indexOf(n) + 1})`);
    checkName(n, what);
  }
  return names;
}

function checkName(name: string, what: string): string {
  if (!NAME.test(name) || name.length > 128) throw new UsageError(`${what}: ${JSON.stringify(name.slice(0, 60))} is not a variable name; use letters, digits and '_', not starting with a digit`);
  return name;
}

/**
 * A simple .env file: KEY=VALUE lines, `export ` allowed, # comments and blank lines skipped,
 * one pair of matching quotes around a value removed ("…" also turns \n into a newline).
 */
export function parseDotenv(text: string, file = ".env"): Record<string, string> {
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new UsageError(`${file}:${i + 1} is not KEY=VALUE (its content is not shown)`);
    env[checkName(m[1]!, `${file}:${i + 1}`)] = unquote(m[2]!);
  });
  return env;
}

function unquote(v: string): string {
  const q = v[0];
  if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
    const inner = v.slice(1, -1);
    return q === '"' ? inner.replace(/\\n/g, "\n").replace(/\\"/g, '"') : inner;
  }
  return v.replace(/\s+#.*$/, ""); // an unquoted value ends at a comment
}

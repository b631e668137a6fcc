/**
 * Zero-config detection: read a source tree and decide how to build and start it. Providers are
 * asked in a fixed order, after Railpack's documented one (Go, Python, Node, then static files),
 * so an app moving between the two builders gets the same decision; a Procfile `web:` line (or
 * railpack.json's deploy.startCommand) is the start command for any of them, and on its own is
 * an app too. The AppPlan says what was chosen and why (`reasons`, shown in the build log);
 * dockerfile-gen.ts turns it into a Dockerfile. Reads files only, through tree.ts; never runs
 * anything.
 */
import { StepError } from "../../core/errors.ts";
import type { AppPlan } from "./plan.ts";
import { parseRailpackConfig } from "./railpack-config.ts";
import { goProvider } from "./providers/go.ts";
import { nodeProvider } from "./providers/node.ts";
import { procfileProvider } from "./providers/procfile.ts";
import type { Provider } from "./providers/provider.ts";
import { pythonProvider } from "./providers/python.ts";
import { staticProvider } from "./providers/static.ts";
import { readTree } from "./tree.ts";

export { DEFAULT_PORT, type AppPlan, type AppKind, type PackageManager, type PlanChoice } from "./plan.ts";
export { parsePackageJson } from "./providers/node.ts";

/** In the order they are asked. */
export const PROVIDERS: readonly Provider[] = [goProvider, pythonProvider, nodeProvider, procfileProvider, staticProvider];

export async function detectApp(srcDir: string): Promise<AppPlan> {
  const tree = await readTree(srcDir, new Set(PROVIDERS.flatMap((p) => p.looksAt)));
  const railpackText = await tree.text("railpack.json");
  const railpack = railpackText === null ? null : parseRailpackConfig(railpackText);
  const procfile = await tree.text("Procfile");
  const ctx = { tree, railpack, procfileWeb: procfile === null ? undefined : parseProcfile(procfile).web, warnings: [...(railpack?.warnings ?? [])] };
  for (const provider of PROVIDERS) {
    const plan = await provider.plan(ctx);
    if (plan) return plan;
  }
  throw new StepError(
    "could not detect how to build this app",
    "Kiln looked for a Dockerfile, railpack.json (deploy.startCommand), go.mod or main.go (Go), " +
      "requirements.txt, pyproject.toml, Pipfile or main.py/app.py (Python), package.json, a Procfile with a web: line, " +
      "and index.html or public/index.html; add one of them at the root of the source",
  );
}

/** Process types of a Procfile ("name: command" lines; # comments). */
export function parseProcfile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*:\s*(.+?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith("#")) out[m[1]!] = m[2]!;
  }
  return out;
}

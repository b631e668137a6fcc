/**
 * One kind of app the zero-config builder knows. Providers are asked in a fixed order (detect.ts,
 * after Railpack's documented provider order); the first that returns a plan wins.
 */
import type { RailpackCommands } from "../railpack-config.ts";
import type { AppPlan } from "../plan.ts";
import type { Tree } from "../tree.ts";

export interface DetectContext {
  tree: Tree;
  /** railpack.json's commands, when the tree has one: they win over what a provider detects. */
  railpack: RailpackCommands | null;
  /** The web: line of a Procfile: it wins as the start command for every provider. */
  procfileWeb: string | undefined;
  /** Warnings so far (railpack.json's); a provider adds its own. */
  warnings: string[];
}

export interface Provider {
  name: string;
  /** Root names it reads: checked for links out of the tree before anything is read. */
  looksAt: readonly string[];
  /** A plan when the tree is this provider's kind of app, else null. */
  plan(ctx: DetectContext): Promise<AppPlan | null>;
}

/** A path as one shell word (quoted when it holds anything but safe characters). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

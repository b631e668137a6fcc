/**
 * The parts of Railpack's `railpack.json` (https://railpack.com/config/file) that Kiln's own
 * zero-config builder honours when Railpack itself is not installed: the install and build
 * steps' commands and `deploy.startCommand`. The file may hold comments and trailing commas.
 *
 * In a commands list, "..." stands for the commands Kiln detected itself (Railpack's array
 * extending). A command is a string or `{ "cmd": "…" }`; Railpack's PATH:/COPY: strings and
 * path/copy/file objects have no equivalent here and are skipped with a warning.
 */
import { StepError } from "../../core/errors.ts";
import { jsonErrorWhere } from "./json-error.ts";

/** Marks where the detected commands go in a step's commands. */
export const DETECTED = "...";

export interface RailpackCommands {
  /** steps.install.commands; DETECTED marks the detected install command. */
  install?: string[];
  /** steps.build.commands; DETECTED marks the detected build command. */
  build?: string[];
  /** deploy.startCommand */
  start?: string;
  warnings: string[];
}

export function parseRailpackConfig(text: string): RailpackCommands {
  let raw: unknown;
  try {
    raw = Bun.JSONC.parse(text);
  } catch {
    throw new StepError(
      `railpack.json is not valid JSON${jsonErrorWhere(text, { jsonc: true })}`,
      "fix the syntax of railpack.json (comments and trailing commas are allowed)",
    );
  }
  if (!isObject(raw)) throw new StepError("railpack.json must hold a JSON object", 'e.g. { "deploy": { "startCommand": "node server.js" } }');
  const warnings: string[] = [];
  const steps = isObject(raw.steps) ? raw.steps : {};
  const out: RailpackCommands = { warnings };
  const install = stepCommands(steps.install, "install", warnings);
  if (install) out.install = install;
  const build = stepCommands(steps.build, "build", warnings);
  if (build) out.build = build;
  for (const name of Object.keys(steps)) {
    if (name !== "install" && name !== "build") warnings.push(`railpack.json: step "${name}" is not supported by Kiln's builder and was skipped`);
  }
  const deploy = isObject(raw.deploy) ? raw.deploy : {};
  if (typeof deploy.startCommand === "string" && deploy.startCommand.trim()) out.start = deploy.startCommand.trim();
  return out;
}

function stepCommands(step: unknown, name: string, warnings: string[]): string[] | undefined {
  if (!isObject(step) || !Array.isArray(step.commands)) return undefined;
  const out: string[] = [];
  for (const c of step.commands) {
    if (typeof c === "string") {
      if (/^(PATH|COPY):/.test(c)) warnings.push(`railpack.json: ${name} command ${JSON.stringify(c)} is not supported by Kiln's builder and was skipped`);
      else if (c.trim()) out.push(c.trim());
    } else if (isObject(c) && typeof c.cmd === "string") {
      if (c.cmd.trim()) out.push(c.cmd.trim());
    } else {
      warnings.push(`railpack.json: a ${name} command that is not a shell command (${JSON.stringify(c)}) was skipped`);
    }
  }
  return out;
}

/**
 * One shell command from a step's commands, with DETECTED replaced by `detected` (dropped when
 * there is none). Undefined when nothing is left.
 */
export function joinCommands(commands: readonly string[], detected: string | undefined): string | undefined {
  const parts = commands.flatMap((c) => (c === DETECTED ? (detected ? [detected] : []) : [c]));
  return parts.length > 0 ? parts.join(" && ") : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

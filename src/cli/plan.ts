/**
 * kiln plan <folder>: what Kiln's zero-config builder would do with a folder, without building —
 * the one-line decision (the same line a build logs and records) and why each choice was made.
 * Runs on this machine, no server needed. An app with its own Dockerfile is built from it.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { detectApp } from "../adapters/builders/detect.ts";
import { planSummary } from "../adapters/builders/kiln-builder.ts";
import { planLine } from "../adapters/builders/plan-line.ts";
import { isFileBeneath } from "../adapters/fs/beneath.ts";
import { errorMessage, KilnError } from "../core/errors.ts";
import { parse, positionals } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

export const plan: Command = {
  name: "plan",
  summary: "show how Kiln would build a folder, without building",
  help: `Usage: kiln plan <folder> [--json]

Print what Kiln's zero-config builder detects in a folder and what it would run: one line
("detected: Node.js app (npm, found package-lock.json) → \`npm ci --omit=dev\` → start \`node server.js\` on port 3000"),
then why each choice was made. A folder with a Dockerfile at its root is built from that Dockerfile.
Runs locally: no server, nothing built, nothing uploaded.

Flags:
  --json         the plan as JSON
  -h, --help     this help

Example:
  kiln plan ./examples/hello-node`,
  async run({ args, out }) {
    const { values, positionals: pos } = parse(args, {});
    const [folder] = positionals(pos, ["folder"]) as [string];
    const dir = resolve(folder);
    if (!(await stat(dir).catch(() => null))?.isDirectory()) {
      out.err(`kiln: ${folder} is not a folder`);
      return EXIT.usage;
    }
    if (await isFileBeneath(dir, "Dockerfile")) {
      const line = "detected: the app's own Dockerfile → build it";
      if (values.json) out.json({ builder: "dockerfile", plan: line });
      else out.out(line);
      return EXIT.ok;
    }
    try {
      const p = await detectApp(dir);
      if (values.json) out.json({ builder: "kiln", plan: planLine(p), details: p });
      else {
        out.out(planLine(p));
        for (const line of planSummary(p)) out.out(`  ${line.replace(/^kiln: /, "")}`);
      }
      return EXIT.ok;
    } catch (err) {
      out.err(`kiln: ${errorMessage(err)}${err instanceof KilnError && err.hint ? `\nhint: ${err.hint}` : ""}`);
      return EXIT.failed;
    }
  },
};

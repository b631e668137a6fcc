/**
 * An app that says how it starts and nothing else: a Procfile `web:` line (or railpack.json's
 * deploy.startCommand) with no package.json. Runs on the Node runtime image, which has sh and
 * busybox; railpack.json's install and build commands run first when given.
 */
import { joinCommands } from "../railpack-config.ts";
import { DEFAULT_PORT, type AppPlan } from "../plan.ts";
import type { Provider } from "./provider.ts";

export const procfileProvider: Provider = {
  name: "procfile",
  looksAt: ["Procfile", "railpack.json"],
  async plan({ railpack: rp, procfileWeb, warnings }) {
    const command = rp?.start ?? procfileWeb;
    if (command === undefined) return null;
    const fromRailpack = rp?.start !== undefined;
    const reasons: AppPlan["reasons"] = {
      kind: fromRailpack ? "railpack.json with deploy.startCommand and no package.json" : "a Procfile with a web: line and no package.json",
      start: fromRailpack ? "deploy.startCommand in railpack.json" : "the web: line of the Procfile",
      port: `PORT=${DEFAULT_PORT} is set in the image; the web process must listen on $PORT`,
    };
    const installCmd = rp?.install ? joinCommands(rp.install, undefined) : undefined;
    const buildCmd = rp?.build ? joinCommands(rp.build, undefined) : undefined;
    if (installCmd) reasons.install = "steps.install.commands in railpack.json";
    if (buildCmd) reasons.build = "steps.build.commands in railpack.json";
    return {
      kind: "procfile",
      manifests: [],
      installCmd,
      buildCmd,
      startCmd: command,
      port: DEFAULT_PORT,
      buildImage: { name: "node" },
      runImage: { name: "node" },
      reasons,
      warnings,
    };
  },
};

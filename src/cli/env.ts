/**
 * kiln env ls | set | unset: an app's environment. Names and flags are shown, values never (the API
 * does not return them, and this command never prints what it was given). A change makes a new
 * release; the command waits until it serves.
 */
import type { EnvInput } from "../client/api-client.ts";
import { parse, positionals, UsageError } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { parseEnvNames, parseEnvPairs } from "./env-args.ts";
import { changeLine } from "./releases.ts";
import { table } from "./output.ts";

const USAGE = `Usage: kiln env ls <name|id> [--json]
       kiln env set <name|id> KEY=VALUE [KEY2=VALUE2…] [--build-time] [--no-secret] [--json]
       kiln env unset <name|id> KEY [KEY2…] [--json]

ls      the variables' names and flags (values are never shown)
set     set variables; a new release applies them, and kiln waits until it serves
          --build-time  the build needs them too (passed as BuildKit secrets; a change rebuilds)
          --no-secret   not secret: the name may appear in logs (the value still never does)
unset   remove variables; a new release applies it
A release that fails its health check is not served: the old one keeps serving, kiln exits 1.

${COMMON_FLAGS}

Examples:
  kiln env set hello GREETING=hi API_URL=https://api.example.com
  kiln env set hello NPM_TOKEN=… --build-time
  kiln env unset hello GREETING`;

export const env: Command = {
  name: "env",
  summary: "list, set or unset an app's environment variables (values never shown)",
  help: USAGE,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, { "build-time": { type: "boolean" }, "no-secret": { type: "boolean" } });
    const [sub, id, ...rest] = pos;
    if (!sub) throw new UsageError("missing ls, set or unset");
    if (sub !== "ls" && sub !== "set" && sub !== "unset") throw new UsageError(`unknown env command ${JSON.stringify(sub.slice(0, 40))}: use ls, set or unset`);
    if (!id) throw new UsageError("missing <name|id>");
    if (sub !== "set" && (values["build-time"] || values["no-secret"])) throw new UsageError("--build-time and --no-secret go with env set");
    const api = client(values);

    if (sub === "ls") {
      positionals(rest, []);
      const vars = await api.env(id);
      if (values.json) out.json({ env: vars });
      else if (vars.length === 0) out.out(`${id} has no environment variables; set one with: kiln env set ${id} KEY=VALUE`);
      else out.out(table([["NAME", "SECRET", "BUILD-TIME"], ...vars.map((v) => [v.key, v.secret ? "yes" : "no", v.buildTime ? "yes" : "no"])], out.paint));
      return EXIT.ok;
    }

    if (rest.length === 0) throw new UsageError(sub === "set" ? "missing KEY=VALUE" : "missing KEY");
    const change =
      sub === "set"
        ? await api.patchEnv(id, { set: withFlags(parseEnvPairs(rest, "env set"), Boolean(values["build-time"]), !values["no-secret"]) }, { wait: true })
        : await api.patchEnv(id, { unset: parseEnvNames(rest, "env unset") }, { wait: true });
    if (values.json) out.json(change);
    else out.out(changeLine(out, id, change));
    return EXIT.ok;
  },
};

function withFlags(plain: Record<string, string>, buildTime: boolean, secret: boolean): EnvInput {
  if (!buildTime && secret) return plain;
  return Object.fromEntries(Object.entries(plain).map(([k, value]) => [k, { value, secret, buildTime }]));
}

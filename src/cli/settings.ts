/** kiln settings <app> | kiln settings set <app> key=value…: how Kiln runs, checks and scales an app. */
import { parse, positionals, UsageError } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { changeLine } from "./releases.ts";
import { KNOWN_SETTINGS, mergeHealthcheck, parseSettingsArgs, settingsLines } from "./settings-args.ts";
import { table } from "./output.ts";

export const settings: Command = {
  name: "settings",
  summary: "show or change an app's settings (replicas, port, health check, volumes…)",
  help: `Usage: kiln settings <name|id> [--json]
       kiln settings set <name|id> key=value [key=value…] [--json]

Show the settings, or change some: a new release applies them (buildCommand and rootDir rebuild),
and kiln waits until it serves. Numbers are numbers; an empty value or null resets a field.
Keys: ${KNOWN_SETTINGS.join(", ")}.
  memory=512 (MB), memory=512m, memory=1g      volumes=data:/data[,cache:/cache]
  healthcheck=none drops the check; healthcheck.* keys change only that field; times in seconds.
  previews.enabled=true previews.ttl=24 (hours) previews.max=5 previews.forks=false previews.secrets=false
    change only the fields given; previews=default resets them all.

${COMMON_FLAGS}

Examples:
  kiln settings hello
  kiln settings set hello replicas=2 healthcheck.path=/healthz
  kiln settings set hello port=8080 memory=512m startCommand="node server.js" volumes=data:/data
  kiln settings set hello previews.enabled=true previews.ttl=24`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    if (pos[0] === "set" && pos.length >= 2) {
      const [, id, ...pairs] = pos as [string, string, ...string[]];
      const parsed = parseSettingsArgs(pairs);
      const api = client(values);
      const patch = { ...parsed.patch };
      if (parsed.healthcheck) patch.healthcheck = mergeHealthcheck((await api.settings(id)).healthcheck, parsed.healthcheck);
      const change = await api.patchSettings(id, patch, { wait: true });
      if (values.json) out.json(change);
      else out.out(changeLine(out, id, change));
      return EXIT.ok;
    }
    if (pos[0] === "set" && pos.length === 1) throw new UsageError("missing <name|id> key=value");
    if (pos.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(pos[1])}: to change settings use kiln settings set <name|id> key=value`);
    const [id] = positionals(pos, ["name|id"]) as [string];
    const s = await client(values).settings(id);
    if (values.json) out.json(s);
    else out.out(table(settingsLines(s)));
    return EXIT.ok;
  },
};

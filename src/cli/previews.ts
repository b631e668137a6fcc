/**
 * kiln previews ls | create: an app's previews — one per pull request (with the webhook), or one per
 * ref asked for here (from any CI). A preview is a deployment: remove it with kiln rm <preview>.
 */
import { parse, positionals } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { previewRows, subcommand } from "./integrations-view.ts";
import { table } from "./output.ts";

export const previews: Command = {
  name: "previews",
  summary: "list an app's previews, or make one of a branch, tag or commit",
  help: `Usage: kiln previews ls <name|id> [--json]
       kiln previews create <name|id> <ref> [--json]

ls      the app's previews, newest first: name, status, pull request, ref, commit, URL
create  build a preview of a branch, tag or full commit sha of the app's repository, at its own URL
        (<app>-<ref>); again for the same ref redeploys it. It inherits the app's settings (one
        replica, no volumes) and its non-secret env (secret env too with previews.secrets=true).
Previews must be on for the app: kiln settings set <app> previews.enabled=true [previews.ttl=24 …].
Follow a preview's build with kiln logs -f <preview>; remove one with kiln rm <preview>.

${COMMON_FLAGS}

Examples:
  kiln settings set hello previews.enabled=true previews.ttl=24
  kiln previews create hello feature/login
  kiln previews ls hello`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const { sub, rest } = subcommand(pos, ["ls", "create"] as const, "previews");
    if (sub === "ls") {
      const [id] = positionals(rest, ["name|id"]) as [string];
      const list = await client(values).previews(id);
      if (values.json) out.json({ previews: list });
      else if (list.length === 0) out.out(`${id} has no previews; make one with: kiln previews create ${id} <ref>`);
      else out.out(table(previewRows(list), out.paint));
      return EXIT.ok;
    }
    const [id, ref] = positionals(rest, ["name|id", "ref"]) as [string, string];
    const d = await client(values).createPreview(id, ref);
    if (values.json) out.json(d);
    else out.out(`preview ${d.name} of ${ref} is ${d.status}; it will serve at ${d.url}\nfollow with: kiln logs -f ${d.name}`);
    return EXIT.ok;
  },
};

/** kiln releases | rollback: an app's kept releases, and serving an earlier one again (no build). */
import type { Change, Release } from "../client/api-client.ts";
import { parse, positionals, UsageError } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { ago, table, type Output } from "./output.ts";

export const releases: Command = {
  name: "releases",
  summary: "list an app's releases (the serving one marked)",
  help: `Usage: kiln releases <name|id> [--json]

List the releases Kiln keeps for an app, newest first: number, * for the serving one, what made it
(deploy, redeploy, env, settings, rollback), who (api, cli, dashboard, webhook), a description,
the image and its age. Env values are never shown.

${COMMON_FLAGS}

Example:
  kiln releases hello`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const [id] = positionals(pos, ["name|id"]) as [string];
    const list = await client(values).releases(id);
    if (values.json) {
      out.json({ releases: list });
      return EXIT.ok;
    }
    if (list.length === 0) {
      out.out(`${id} has no releases yet (the first one comes with its first successful deploy)`);
      return EXIT.ok;
    }
    const rows = list.map((r) => [`#${r.number}`, r.current ? "*" : "", r.trigger, r.via, r.description, shortImage(r.image), ago(r.createdAt)]);
    out.out(table([["RELEASE", "CURRENT", "TRIGGER", "VIA", "DESCRIPTION", "IMAGE", "AGE"], ...rows], out.paint));
    return EXIT.ok;
  },
};

export const rollback: Command = {
  name: "rollback",
  summary: "serve an earlier release again (default: the one before the serving one)",
  help: `Usage: kiln rollback <name|id> [release] [--json]

Serve an earlier release again — its image, env and settings — without a build, through the same
zero-downtime swap as a deploy. Waits until it serves: exit 0 with the new release's number, or
exit 1 with why not (the release that served before keeps serving). "release" is a number from
kiln releases (#3 or 3); without it, the release before the serving one.

${COMMON_FLAGS}

Examples:
  kiln rollback hello
  kiln rollback hello 3`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const [id, target] = positionals(pos, ["name|id", "release"], 1) as [string, string | undefined];
    const release = target === undefined ? undefined : releaseNumber(target);
    const change = await client(values).rollback(id, { release, wait: true });
    if (values.json) out.json(change);
    else out.out(changeLine(out, id, change));
    return EXIT.ok;
  },
};

function releaseNumber(arg: string): number {
  const m = /^#?(\d{1,9})$/.exec(arg);
  if (!m || Number(m[1]) < 1) throw new UsageError(`release must be a release number from kiln releases (e.g. 3 or #3), got ${JSON.stringify(arg)}`);
  return Number(m[1]);
}

/** What a change did, in one line: "release #5 serving (rollback to release #3)". Never values. */
export function changeLine(out: Output, id: string, change: Change): string {
  const r = change.release;
  if (change.applied === "released" && r) return `${out.paint.green("✔")} ${change.deployment.name}: release #${r.number} serving (${r.description})`;
  if (change.applied === "saved") return `${change.deployment.name ?? id}: saved; it applies with the next deploy (${change.deployment.status})`;
  return `${change.deployment.name ?? id}: a new release is on its way; follow with: kiln logs -f ${change.deployment.name ?? id}`;
}

/** The part of an image reference worth reading: kiln/hello:b-1a2b3c… → hello:b-1a2b3c. */
export function shortImage(image: Release["image"]): string {
  if (image.startsWith("sha256:")) return image.slice(7, 19);
  return image.slice(image.lastIndexOf("/") + 1);
}

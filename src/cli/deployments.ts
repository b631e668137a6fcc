/** kiln ls | logs | redeploy | stop | rm: deployments that already exist. */
import type { Deployment, KilnClient, LogLine } from "../client/api-client.ts";
import { intFlag, parse, positionals, UsageError } from "./args.ts";
import { COMMON_FLAGS, EXIT, type Command } from "./command.ts";
import { ago, statusColor, table, type Output } from "./output.ts";

export const ls: Command = {
  name: "ls",
  summary: "list deployments",
  help: `Usage: kiln ls [--json]

List deployments, newest first: name, status, URL, last change.

${COMMON_FLAGS}

Example:
  kiln ls --json | jq -r '.deployments[].name'`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    positionals(pos, []);
    const deployments = await client(values).listDeployments();
    if (values.json) {
      out.json({ deployments });
      return EXIT.ok;
    }
    if (deployments.length === 0) {
      out.out("no deployments yet; try: kiln deploy ./my-app");
      return EXIT.ok;
    }
    const rows = deployments.map((d) => [d.name, statusColor(d.status, out.paint), d.url, ago(d.updatedAt), d.id]);
    out.out(table([["NAME", "STATUS", "URL", "UPDATED", "ID"], ...rows], out.paint));
    return EXIT.ok;
  },
};

export const logs: Command = {
  name: "logs",
  summary: "print a deployment's build and runtime log",
  help: `Usage: kiln logs <name|id> [-f] [--since SEQ] [--json]

Print the log kept for a deployment (build, runtime and system lines) and exit once the server
marks the end of what is kept. With -f, keep following the live tail until Ctrl-C. --since starts at a sequence number; --json prints one JSON line per
log line ({seq, ts, stream, text}).

${COMMON_FLAGS}

Example:
  kiln logs hello -f`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, { follow: { type: "boolean", short: "f" }, since: { type: "string" } });
    const [id] = positionals(pos, ["name|id"]) as [string];
    const since = intFlag("since", values.since);
    const api = client(values);
    await api.getDeployment(id); // a readable 404 before the WebSocket
    const stream = api.streamLogs(id, { since, follow: Boolean(values.follow), onLine: (l) => printLine(out, l, Boolean(values.json)) });
    process.once("SIGINT", () => stream.close());
    await stream.done;
    return EXIT.ok;
  },
};

export function printLine(out: Output, line: LogLine, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const tag = line.stream === "build" ? out.paint.dim("build  ") : line.stream === "system" ? out.paint.cyan("kiln   ") : out.paint.dim("app    ");
  out.out(out.tty ? `${tag}${line.text}` : `${line.stream}\t${line.text}`);
}

/** Poll until the deployment is running (or has failed or been stopped). */
export async function waitForOutcome(api: KilnClient, id: string, intervalMs = 400): Promise<Deployment> {
  for (;;) {
    const d = await api.getDeployment(id);
    if (d.status === "running" || d.status === "failed" || d.status === "stopped") return d;
    await Bun.sleep(intervalMs);
  }
}

/** The last lines of a deploy: the URL, or why it failed. */
export function reportOutcome(out: Output, d: Deployment): number {
  if (d.status === "running") {
    out.out(`${out.paint.green("✔")} ${out.paint.bold(d.name)} is running at ${out.paint.bold(d.url)}`);
    return EXIT.ok;
  }
  out.err(`${out.paint.red("✘")} ${d.name} ${d.status}${d.failureReason ? `: ${d.failureReason}` : ""}`);
  return EXIT.failed;
}

export const redeploy: Command = {
  name: "redeploy",
  summary: "rebuild a deployment from the same source",
  help: `Usage: kiln redeploy <name|id> [--wait] [--json]

Rebuild from the same source (git: the ref is fetched again). The old container serves until the
new one is healthy. With --wait, wait until it is running (exit 0) or failed (exit 1).

${COMMON_FLAGS}

Example:
  kiln redeploy hello --wait`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, { wait: { type: "boolean" } });
    const [id] = positionals(pos, ["name|id"]) as [string];
    const api = client(values);
    const d = await api.redeploy(id);
    if (!values.wait) {
      if (values.json) out.json(d);
      else out.out(`${d.name}: ${d.status}; follow with: kiln logs -f ${d.name}`);
      return EXIT.ok;
    }
    const final = await waitForOutcome(api, d.id);
    if (values.json) {
      out.json(final);
      return final.status === "running" ? EXIT.ok : EXIT.failed;
    }
    return reportOutcome(out, final);
  },
};

export const stop: Command = {
  name: "stop",
  summary: "stop a deployment (history and images kept)",
  help: `Usage: kiln stop <name|id> [--json]

Remove the deployment's container and route; its history and images stay (kiln redeploy starts it again).

${COMMON_FLAGS}

Example:
  kiln stop hello`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, {});
    const [id] = positionals(pos, ["name|id"]) as [string];
    const d = await client(values).stop(id);
    if (values.json) out.json(d);
    else out.out(`${d.name}: ${statusColor(d.status, out.paint)}`);
    return EXIT.ok;
  },
};

export const rm: Command = {
  name: "rm",
  summary: "delete a deployment with its images, logs and history",
  help: `Usage: kiln rm <name|id> [--yes] [--volumes]

Delete the deployment: container, route, images, logs, releases and history. Its volumes are kept
unless --volumes is given. Asks for confirmation on a terminal; without one (scripts, CI) --yes is
required.

${COMMON_FLAGS}

Example:
  kiln rm hello --yes
  kiln rm hello --yes --volumes`,
  async run({ args, out, client }) {
    const { values, positionals: pos } = parse(args, { yes: { type: "boolean", short: "y" }, volumes: { type: "boolean" } });
    const [id] = positionals(pos, ["name|id"]) as [string];
    if (!values.yes) {
      if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${id} without --yes (stdin is not a terminal)`);
      const answer = prompt(`Delete ${id} with its images, logs${values.volumes ? ", volumes" : ""} and history? [y/N]`);
      if (!answer || !/^y(es)?$/i.test(answer.trim())) {
        out.err("not deleted");
        return EXIT.failed;
      }
    }
    await client(values).remove(id, { volumes: Boolean(values.volumes) });
    if (values.json) out.json({ deleted: id, volumes: Boolean(values.volumes) });
    else out.out(`${id}: deleted${values.volumes ? " with its volumes" : ""}`);
    return EXIT.ok;
  },
};

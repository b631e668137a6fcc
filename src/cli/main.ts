/**
 * The kiln command: the dispatcher. `kiln serve` runs the control plane; every other command is a
 * client of its API (src/cli/<group>.ts). Exit codes: 0 ok, 1 the operation failed, 2 usage error,
 * 3 the server cannot be reached or the token is missing or wrong.
 */
import { plan } from "./plan.ts";
import { KilnError } from "../core/errors.ts";
import { loadCliEnv, loadConfig, parseServeFlags } from "../config.ts";
import { startKiln } from "../main.ts";
import { ClientError } from "../client/api-client.ts";
import { UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { clientFor } from "./context.ts";
import { deploy } from "./deploy.ts";
import { logs, ls, redeploy, rm, stop } from "./deployments.ts";
import { env as envCommand } from "./env.ts";
import { releases, rollback } from "./releases.ts";
import { settings } from "./settings.ts";
import { domains, tls } from "./domains.ts";
import { previews } from "./previews.ts";
import { stats } from "./stats.ts";
import { webhook } from "./webhook.ts";
import { createOutput } from "./output.ts";
import { claim, pools, release, tenants, workloads } from "./pools.ts";

// `kiln tenant-resolver` (the process `kiln serve` starts) is dispatched by bin/kiln before this
// module loads, so that process loads only src/routing/main.ts and what it imports.

const COMMANDS: Command[] = [deploy, plan, ls, logs, stats, redeploy, stop, rm, releases, rollback, envCommand, settings, domains, tls, webhook, previews, pools, workloads, tenants, claim, release];

const SERVE_USAGE = `Usage: kiln serve [--port 4000] [--host 127.0.0.1] [--data-dir ./.kiln] [--public-host localhost] [--public-port 8080] [--caddy-admin URL] [--workloads DIR]

Run the control plane: API on http://127.0.0.1:4000/api/v1, apps on http://<name>.localhost:8080/.

Example:
  kiln serve --port 4000`;

const USAGE = `kiln — turn source into running software on a machine you own

Usage: kiln <command> [args] [--url URL] [--token TOKEN] [--json]

Commands:
  serve        run the control plane (API + apps)
${COMMANDS.map((c) => `  ${c.name.padEnd(11)}  ${c.summary}`).join("\n")}
  help         this text; \`kiln <command> --help\` for one command

Server and token: --url/--token, else KILN_URL/KILN_TOKEN, else the local Kiln
($KILN_DATA_DIR or ./.kiln: api-token; http://$KILN_API_HOST:$KILN_API_PORT, default http://127.0.0.1:4000).
Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 server unreachable or auth failed.

Example:
  kiln serve &
  kiln deploy ./examples/hello-node --name hello`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const env = loadCliEnv();
  const out = createOutput(env.noColor);
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (name === "serve") return await serve(rest);
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      const topic = COMMANDS.find((c) => c.name === rest[0]);
      console.log(topic ? topic.help : rest[0] === "serve" ? SERVE_USAGE : USAGE);
      return EXIT.ok;
    }
    if (!command) {
      console.error(`kiln: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(command.help);
      return EXIT.ok;
    }
    return await command.run({ args: rest, out, client: (flags) => clientFor(flags, env) });
  } catch (err) {
    return reportError(err, command);
  }
}

/** One place turns a failure into a message and an exit code. */
function reportError(err: unknown, command: Command | undefined): number {
  const hint = (h: string | undefined) => (h ? `\n  hint: ${h}` : "");
  if (err instanceof UsageError) {
    console.error(`kiln: ${err.message}\n\n${command?.help ?? USAGE}`);
    return EXIT.usage;
  }
  if (err instanceof ClientError) {
    console.error(`kiln: ${err.message}${hint(err.hint)}`);
    return err.status === 0 || err.status === 401 ? EXIT.unreachable : EXIT.failed;
  }
  if (err instanceof KilnError) {
    console.error(`kiln: ${err.message}${hint(err.hint)}`);
    return EXIT.failed;
  }
  console.error(`kiln: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT.failed;
}

async function serve(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const config = loadConfig(undefined, parseServeFlags(args)); // this process's environment, then the flags
  const kiln = await startKiln(config);
  console.log(`kiln: API on ${kiln.apiUrl}`);
  console.log(`kiln: apps on http://<name>.${config.publicHost}:${config.publicPort}/`);
  if (kiln.tokenGenerated) {
    console.log(`kiln: generated an API token (stored in ${kiln.tokenPath}, mode 0600; shown once):\n\n    ${kiln.token}\n`);
  } else {
    console.log(`kiln: API token in ${kiln.tokenPath}`);
  }
  const done = Promise.withResolvers<void>();
  const shutdown = async (sig: string) => {
    console.log(`kiln: ${sig}, shutting down`);
    await kiln.stop();
    done.resolve();
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  await done.promise;
  return 0;
}

/** The kiln command. `kiln serve` runs the control plane. */
import { KilnError } from "../core/errors.ts";
import { loadConfig, parseServeFlags } from "../config.ts";
import { startKiln } from "../main.ts";

const USAGE = `kiln — turn source into running software on a machine you own

Usage:
  kiln serve [--port 4000] [--host 127.0.0.1] [--data-dir ./.kiln] [--public-host localhost] [--public-port 8080] [--caddy-admin URL]
      Run the control plane: API on http://127.0.0.1:4000/api/v1, apps on http://<name>.localhost:8080/.
  kiln help

Example:
  kiln serve --port 4000
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      default:
        console.error(`kiln: unknown command ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof KilnError) {
      console.error(`kiln: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ""}`);
      return 1;
    }
    throw err;
  }
}

async function serve(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig(process.env, parseServeFlags(args));
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

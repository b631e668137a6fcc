/** The shape of a client command, and the exit codes every command uses. */
import type { KilnClient } from "../client/api-client.ts";
import type { Output } from "./output.ts";

export const EXIT = {
  ok: 0,
  /** The operation failed: a build failed, a name is unknown, the API refused. */
  failed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The server cannot be reached, or the token is missing or wrong. */
  unreachable: 3,
} as const;

export interface CommandContext {
  args: string[];
  out: Output;
  /** The client for --url/--token, KILN_URL/KILN_TOKEN or the local data dir (resolved on first use). */
  client(flags: { url?: string; token?: string }): KilnClient;
}

export interface Command {
  name: string;
  /** One line for `kiln help`. */
  summary: string;
  /** The full `kiln <name> --help` text, with an example. */
  help: string;
  run(ctx: CommandContext): Promise<number>;
}

export const COMMON_FLAGS = `Common flags:
  --url URL      the Kiln server (else KILN_URL, else http://$KILN_API_HOST:$KILN_API_PORT, default http://127.0.0.1:4000)
  --token TOKEN  the API token (else KILN_TOKEN, else $KILN_DATA_DIR/api-token, default ./.kiln/api-token)
  --json         machine-readable output (the API's JSON)
  -h, --help     this help`;

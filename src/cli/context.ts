/**
 * Where the CLI finds its server and token (the environment is read by config.ts's loadCliEnv):
 *   1. flags --url / --token
 *   2. env KILN_URL / KILN_TOKEN
 *   3. the local Kiln's data dir ($KILN_DATA_DIR or ./.kiln): its api-token file, and the URL from
 *      KILN_API_HOST / KILN_API_PORT (default http://127.0.0.1:4000)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClientError, KilnClient } from "../client/api-client.ts";
import type { CliEnv } from "../config.ts";
import { localApiUrl } from "../core/urls.ts";

export interface Target {
  url: string;
  token: string;
  /** Where the token came from, for error messages. */
  tokenFrom: string;
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);

export function resolveTarget(flags: { url?: string; token?: string }, env: CliEnv, readToken: (path: string) => string | undefined = readTokenFile): Target {
  const url = nonEmpty(flags.url) ?? env.url ?? localUrl(env);
  if (nonEmpty(flags.token)) return { url, token: flags.token!, tokenFrom: "--token" };
  if (env.token) return { url, token: env.token, tokenFrom: "KILN_TOKEN" };
  const path = join(env.dataDir, "api-token");
  const token = readToken(path);
  if (!token) {
    throw new ClientError(401, "unauthorized", "no API token", `pass --token, set KILN_TOKEN, or run where ${path} exists (kiln serve writes it)`);
  }
  return { url, token, tokenFrom: path };
}

const localUrl = (env: CliEnv) => localApiUrl(env.apiHost, env.apiPort);

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function clientFor(flags: { url?: string; token?: string }, env: CliEnv): KilnClient {
  const t = resolveTarget(flags, env);
  return new KilnClient({ baseUrl: t.url, token: t.token, via: "cli" });
}

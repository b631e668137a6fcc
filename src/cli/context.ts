/**
 * Where the CLI finds its server and token — the CLI's only reader of the environment:
 *   1. flags --url / --token
 *   2. env KILN_URL / KILN_TOKEN
 *   3. the local Kiln's data dir ($KILN_DATA_DIR or ./.kiln): its api-token file, and the URL from
 *      KILN_API_HOST / KILN_API_PORT (default http://127.0.0.1:4000)
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ClientError, KilnClient } from "../client/api-client.ts";

export interface Target {
  url: string;
  token: string;
  /** Where the token came from, for error messages. */
  tokenFrom: string;
}

type Env = Record<string, string | undefined>;
const nonEmpty = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);

export function resolveTarget(flags: { url?: string; token?: string }, env: Env = process.env, readToken: (path: string) => string | undefined = readTokenFile): Target {
  const url = nonEmpty(flags.url) ?? nonEmpty(env.KILN_URL) ?? localUrl(env);
  if (nonEmpty(flags.token)) return { url, token: flags.token!, tokenFrom: "--token" };
  if (nonEmpty(env.KILN_TOKEN)) return { url, token: env.KILN_TOKEN!, tokenFrom: "KILN_TOKEN" };
  const path = join(resolve(nonEmpty(env.KILN_DATA_DIR) ?? "./.kiln"), "api-token");
  const token = readToken(path);
  if (!token) {
    throw new ClientError(401, "unauthorized", "no API token", `pass --token, set KILN_TOKEN, or run where ${path} exists (kiln serve writes it)`);
  }
  return { url, token, tokenFrom: path };
}

function localUrl(env: Env): string {
  const host = nonEmpty(env.KILN_API_HOST) ?? "127.0.0.1";
  const port = nonEmpty(env.KILN_API_PORT) ?? "4000";
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function clientFor(flags: { url?: string; token?: string }, env: Env = process.env): KilnClient {
  const t = resolveTarget(flags, env);
  return new KilnClient({ baseUrl: t.url, token: t.token });
}

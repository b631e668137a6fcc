/**
 * The dashboard's door to the API: the same typed KilnClient the CLI uses (src/client), on this
 * page's origin. Any 401 signs the user out with the API's own message.
 */
import type { z } from "@hono/zod-openapi";
import { ClientError, errorFrom, KilnClient } from "../../src/client/api-client.ts";
import type { LogSearchPage } from "../../src/http/schemas-logs.ts";
import { queryString, type SearchPage, type SearchParams } from "./logs/search-model.ts";
import { getToken, signOut } from "./session.ts";

export { ClientError };
export type { Build, Change, Claim, Deployment, DeploymentStatus, Domain, EnvVar, LogLine, Pool, Release, Settings, SettingsPatch, Tenant, Webhook, WebhookCreated, Workloads } from "../../src/client/api-client.ts";

/** A client that signs out on 401 (every page but sign-in uses this one). */
export function clientFor(token: string): KilnClient {
  const guarded = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await window.fetch(input, init);
    if (res.status === 401) {
      const err = errorFrom(401, await res.clone().text());
      signOut(`${err.message}. Sign in again with a valid token.`);
    }
    return res;
  }) as typeof fetch;
  return new KilnClient({ baseUrl: window.location.origin, token, fetch: guarded, via: "dashboard" });
}

/** A client that reports 401 as an error (sign-in checks a token with it). */
export function plainClient(token: string): KilnClient {
  return new KilnClient({ baseUrl: window.location.origin, token, fetch: windowFetch, via: "dashboard" });
}

/**
 * One page of a deployment's stored-log search (GET /deployments/:id/logs, newest first). The
 * shared KilnClient has no search call, so this one asks on its own with the session's token; a
 * 401 signs out as clientFor's do, any other refusal throws the API's message and hint.
 */
export async function searchLogs(client: KilnClient, deploymentId: string, params: SearchParams, signal?: AbortSignal): Promise<SearchPage> {
  const url = `${client.apiBase}/deployments/${encodeURIComponent(deploymentId)}/logs${queryString(params)}`;
  let res: Response;
  try {
    res = await window.fetch(url, { headers: { authorization: `Bearer ${getToken() ?? ""}`, "x-kiln-via": "dashboard" }, signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ClientError(0, "unreachable", `cannot reach Kiln (${err instanceof Error ? err.message : String(err)})`, "check that Kiln is running");
  }
  const text = await res.text();
  if (!res.ok) {
    const err = errorFrom(res.status, text);
    if (res.status === 401) signOut(`${err.message}. Sign in again with a valid token.`);
    throw err;
  }
  return JSON.parse(text) as SearchPage;
}
// Fails to compile when the API's page and the dashboard's SearchPage drift apart.
const samePage: z.infer<typeof LogSearchPage> extends SearchPage ? true : never = true;
void samePage;

/** The browser's fetch must be called unbound from any object ("Illegal invocation" otherwise). */
const windowFetch = ((input: RequestInfo | URL, init?: RequestInit) => window.fetch(input, init)) as typeof fetch;

/** Any thrown thing as a message and an optional hint — never raw JSON. */
export function describeError(err: unknown): { message: string; hint?: string } {
  if (err instanceof ClientError) return { message: err.message, hint: err.hint };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}

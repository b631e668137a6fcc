/**
 * The dashboard's door to the API: the same typed KilnClient the CLI uses (src/client), on this
 * page's origin. Any 401 signs the user out with the API's own message.
 */
import { ClientError, errorFrom, KilnClient } from "../../src/client/api-client.ts";
import { signOut } from "./session.ts";

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

/** The browser's fetch must be called unbound from any object ("Illegal invocation" otherwise). */
const windowFetch = ((input: RequestInfo | URL, init?: RequestInit) => window.fetch(input, init)) as typeof fetch;

/** Any thrown thing as a message and an optional hint — never raw JSON. */
export function describeError(err: unknown): { message: string; hint?: string } {
  if (err instanceof ClientError) return { message: err.message, hint: err.hint };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}

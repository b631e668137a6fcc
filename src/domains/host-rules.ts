/**
 * Which host names a user may attach to an app, and which names Caddy may get a certificate for.
 * Pure: the caller looks up deployments, domains and tenants.
 */
import { badRequest } from "../core/errors.ts";
import { isHostName } from "../core/names.ts";

export interface HostContext {
  /** KILN_PUBLIC_HOST: apps live at <name>.<publicHost>, tenants at <tenant>.<workload>.<publicHost>. */
  publicHost: string;
  /** KILN_API_HOST: the API's own name is never an app's. */
  apiHost: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The host as stored: lowercased, without a trailing dot. Refused (400, saying what to pick): not a DNS
 * name, an IP address, a single label, the public host, the API's host, or any name under the public
 * host (those are Kiln's own: apps' default hosts and tenants' hosts, today's or a later app's).
 */
export function normalizeHost(input: string, ctx: HostContext): string {
  const host = input.trim().toLowerCase().replace(/\.$/, "");
  const publicHost = ctx.publicHost.toLowerCase();
  const hint = "give a DNS name you own, like shop.example.com, and point its A/AAAA records at this server";
  if (IPV4.test(host) || host.includes(":")) throw badRequest(`${JSON.stringify(input)} is an IP address, not a domain`, hint);
  if (!isHostName(host)) throw badRequest(`${JSON.stringify(input)} is not a DNS name (labels of letters, digits and '-', at most 253 characters)`, hint);
  if (!host.includes(".")) throw badRequest(`${JSON.stringify(input)} has a single label`, hint);
  if (/^\d+$/.test(host.slice(host.lastIndexOf(".") + 1))) throw badRequest(`${JSON.stringify(input)} ends in a numeric label`, hint);
  if (host === publicHost || host === ctx.apiHost.toLowerCase()) {
    throw badRequest(`${host} is Kiln's own host (KILN_PUBLIC_HOST or KILN_API_HOST)`, hint);
  }
  if (host.endsWith(`.${publicHost}`)) {
    throw badRequest(
      `${host} is under KILN_PUBLIC_HOST (${publicHost}), where Kiln names apps (<name>.${publicHost}) and tenants`,
      `every app is already served at <name>.${publicHost}; to attach a name, ${hint}`,
    );
  }
  return host;
}

/** What a name asked about by Caddy is, relative to the public host. */
export type AskedName =
  | { kind: "public" }
  | { kind: "app"; name: string }
  | { kind: "tenant"; tenantId: string; workloadId: string }
  | { kind: "other"; host: string };

export function classifyName(name: string, publicHost: string): AskedName {
  const host = name.trim().toLowerCase().replace(/\.$/, "");
  const ph = publicHost.toLowerCase();
  if (host === ph) return { kind: "public" };
  if (!host.endsWith(`.${ph}`)) return { kind: "other", host };
  const labels = host.slice(0, -(ph.length + 1)).split(".");
  if (labels.length === 1) return { kind: "app", name: labels[0]! };
  if (labels.length === 2) return { kind: "tenant", tenantId: labels[0]!, workloadId: labels[1]! };
  return { kind: "other", host };
}

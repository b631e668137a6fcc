/**
 * Where a tenant's requests go, answered as DNS to Caddy. Caddy has one static route for every
 * `<tenant>.<workload>.<publicHost>`, whose upstream is an SRV lookup of the request's host against
 * this resolver; the answer is the loopback endpoint of the member the tenant holds. A claim thus
 * changes no proxy config: the tenant's row in the store is the route, and it answers from the moment
 * the claim has completed (state and secrets in place) until the release removes the member.
 */
import { addressName, addressOfName } from "../core/address-names.ts";
import type { Answerer, DnsAnswer } from "../adapters/dns/server.ts";
import { RCODE, RTYPE } from "../formats/dns-wire.ts";
import type { PoolRepo } from "../core/ports/store.ts";
import { isTenantId, isWorkloadId } from "../core/names.ts";

export class TenantResolver implements Answerer {
  readonly #suffix: string;

  constructor(
    private readonly pools: Pick<PoolRepo, "endpointOfTenant">,
    publicHost: string,
  ) {
    this.#suffix = `.${publicHost.toLowerCase().replace(/\.$/, "")}`;
  }

  async answer(name: string, type: number): Promise<DnsAnswer> {
    const ip = addressOfName(name);
    if (ip) return type === RTYPE.A || type === RTYPE.ANY ? { rcode: RCODE.ok, records: [{ type: "A", ip, ttl: 0 }] } : { rcode: RCODE.ok };
    const tenant = this.tenantOf(name);
    if (!tenant) return { rcode: RCODE.refused };
    const endpoint = await this.pools.endpointOfTenant(tenant.workloadId, tenant.tenantId);
    const target = endpoint ? splitEndpoint(endpoint) : null;
    if (!target) return { rcode: RCODE.nxDomain };
    if (type !== RTYPE.SRV && type !== RTYPE.ANY) return { rcode: RCODE.ok };
    return { rcode: RCODE.ok, records: [{ type: "SRV", priority: 0, weight: 0, port: target.port, target: addressName(target.host), ttl: 0 }] };
  }

  /** `<tenant>.<workload>` of a name under the public host, or null. */
  tenantOf(name: string): { tenantId: string; workloadId: string } | null {
    if (!name.endsWith(this.#suffix)) return null;
    const labels = name.slice(0, -this.#suffix.length).split(".");
    if (labels.length !== 2) return null;
    const [tenantId, workloadId] = labels as [string, string];
    return isTenantId(tenantId) && isWorkloadId(workloadId) ? { tenantId, workloadId } : null;
  }
}

function splitEndpoint(endpoint: string): { host: string; port: number } | null {
  const i = endpoint.lastIndexOf(":");
  const host = endpoint.slice(0, i);
  const port = Number(endpoint.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return null;
  try {
    addressName(host);
  } catch {
    return null; // not on loopback: never routed
  }
  return { host, port };
}

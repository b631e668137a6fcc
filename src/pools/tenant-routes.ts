/** A claimed tenant's stable URL: http://<tenant>.<workload>.<publicHost>:<publicPort>/ through Caddy. */
import { createHash } from "node:crypto";
import type { AppRoute } from "../core/ports/routes.ts";

export function tenantRouteId(workloadId: string, tenantId: string): string {
  return `t-${createHash("sha256").update(`${workloadId}\0${tenantId}`).digest("hex").slice(0, 20)}`;
}

export function tenantRoute(workloadId: string, tenantId: string, upstream: string): AppRoute {
  return { deploymentId: tenantRouteId(workloadId, tenantId), name: `${tenantId}.${workloadId}`, upstream };
}

export function tenantUrl(u: { publicHost: string; publicPort: number }, workloadId: string, tenantId: string): string {
  const port = u.publicPort === 80 ? "" : `:${u.publicPort}`;
  return `http://${tenantId}.${workloadId}.${u.publicHost}${port}/`;
}

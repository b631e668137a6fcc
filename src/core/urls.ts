/**
 * A claimed tenant's stable URL: http://<tenant>.<workload>.<publicHost>:<publicPort>/ through Caddy.
 * Caddy serves all of them with one static route; TenantResolver says where each one goes.
 */
export function tenantUrl(u: { publicHost: string; publicPort: number }, workloadId: string, tenantId: string): string {
  const port = u.publicPort === 80 ? "" : `:${u.publicPort}`;
  return `http://${tenantId}.${workloadId}.${u.publicHost}${port}/`;
}

/**
 * Caddy's own words on certificate issuance, from its JSON log (one object a line). Pure: the caller
 * reads the file's tail; this picks the last error about one host.
 */

/** The raw text of the last TLS error Caddy logged about `host` at or after `sinceMs`, or null. */
export function lastTlsError(lines: string[], host: string, sinceMs: number): string | null {
  const h = host.toLowerCase();
  let found: string | null = null;
  for (const line of lines) {
    if (!line.startsWith("{") || !line.includes(h)) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (e.level !== "error" || typeof e.logger !== "string" || !e.logger.startsWith("tls")) continue;
    if (typeof e.ts === "number" && e.ts * 1000 < sinceMs) continue;
    if (!namesHost(e, h)) continue;
    found = errorText(e);
  }
  return found;
}

function namesHost(e: Record<string, unknown>, host: string): boolean {
  if (typeof e.identifier === "string" && e.identifier.toLowerCase() === host) return true;
  if (Array.isArray(e.identifiers) && e.identifiers.some((i) => typeof i === "string" && i.toLowerCase() === host)) return true;
  return typeof e.error === "string" && e.error.toLowerCase().includes(`[${host}]`);
}

function errorText(e: Record<string, unknown>): string {
  const problem = e.problem as { type?: unknown; detail?: unknown } | undefined;
  const parts = [typeof e.msg === "string" ? e.msg : "", typeof e.error === "string" ? e.error : ""];
  if (problem && typeof problem === "object") parts.push([problem.type, problem.detail].filter((p) => typeof p === "string").join(" "));
  return parts.filter(Boolean).join(": ").slice(0, 1000);
}

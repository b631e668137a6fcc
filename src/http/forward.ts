/**
 * Forwarding a request to another Kiln: a tenant's release or sync must run on a Kiln of the pools
 * node holding the tenant's container (its slots are host mounts there). The caller's own
 * credentials go along unchanged (Kilns of one cluster share the API token) and the request is marked
 * so that it is never forwarded twice. Each live Kiln of the node is tried in turn, freshest first;
 * the first that answers is the answer, whatever its status.
 */

/** Set on a forwarded request: the Kiln receiving it answers itself. */
export const FORWARDED = "x-kiln-forwarded";

export interface ForwardedRequest {
  method: string;
  /** Path and query, from /api/v1 on. */
  pathAndQuery: string;
  body: string | null;
  headers: Record<string, string | undefined>;
}

/** Headers that go along: who the caller is, and what the body is. */
const PASSED = ["authorization", "cookie", "content-type"] as const;
/** A release's upload is bounded by the workload's sync.timeout; this only ends a hung peer. */
const FORWARD_TIMEOUT_MS = 15 * 60_000;

export async function forwardToPeers(peers: string[], req: ForwardedRequest, fetcher: typeof fetch = fetch): Promise<Response | null> {
  const headers: Record<string, string> = { [FORWARDED]: "1" };
  for (const h of PASSED) if (req.headers[h]) headers[h] = req.headers[h]!;
  for (const base of peers) {
    let res: Response;
    try {
      res = await fetcher(`${base.replace(/\/+$/, "")}${req.pathAndQuery}`, {
        method: req.method,
        headers,
        body: req.body,
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
    } catch {
      continue; // that Kiln is gone (its row not yet stale): the next one
    }
    const body = await res.arrayBuffer();
    const out = new Headers({ "content-type": res.headers.get("content-type") ?? "application/json" });
    const retry = res.headers.get("retry-after");
    if (retry) out.set("retry-after", retry);
    return new Response(body, { status: res.status, headers: out });
  }
  return null;
}

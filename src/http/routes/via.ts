/** Who asked, for a release's record: the X-Kiln-Via header (cli, dashboard), else the API itself. */
import type { Context } from "hono";
import type { ReleaseVia } from "../../core/release.ts";

/** Webhooks say so themselves (server side); a client may only claim to be the CLI or the dashboard. */
const CLAIMABLE: readonly ReleaseVia[] = ["cli", "dashboard"];

export function viaOf(c: Context): ReleaseVia {
  const v = c.req.header("x-kiln-via")?.trim().toLowerCase() as ReleaseVia | undefined;
  return v && CLAIMABLE.includes(v) ? v : "api";
}

/**
 * Where the other Kilns answer. Each Kiln on the database writes its row (`kiln_peers`: owner, pools
 * node, API address) every few seconds and removes it at stop; a row not renewed for STALE_MS is a
 * Kiln gone. Used to forward a tenant's release or sync to a Kiln of the pools node holding the
 * tenant's container (http/forward.ts).
 *
 *   const peers = await Peers.start({ db, owner, node, apiUrl });
 *   await peers.ofNode("a1b2…");   // live Kilns of that node, freshest first
 *   await peers.stop();
 */
import type { SQL } from "bun";

const EVERY_MS = 3_000;
/** A Kiln whose row is older is taken for gone (a few missed beats). */
const STALE_MS = 12_000;

export interface PeersOptions {
  db: SQL;
  owner: string;
  node: string;
  /** Where this Kiln's API answers the others (KILN_ADVERTISE_URL, else the API's own address). */
  apiUrl: string;
  everyMs?: number;
  onError?: (err: unknown) => void;
}

export class Peers {
  #timer: ReturnType<typeof setInterval> | null = null;

  private constructor(private readonly o: PeersOptions) {}

  static async start(o: PeersOptions): Promise<Peers> {
    const p = new Peers(o);
    await p.#beat();
    p.#timer = setInterval(() => void p.#beat().catch((err) => o.onError?.(err)), o.everyMs ?? EVERY_MS);
    p.#timer.unref?.();
    return p;
  }

  /** The API addresses of the live Kilns of `node` other than this one, freshest first. */
  async ofNode(node: string): Promise<string[]> {
    const rows = await this.o.db.unsafe<{ api_url: string }[]>(
      "SELECT api_url FROM kiln_peers WHERE pools_node = $1 AND owner <> $2 AND seen_at > $3 ORDER BY seen_at DESC",
      [node, this.o.owner, Date.now() - STALE_MS],
    );
    return rows.map((r) => r.api_url);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.o.db.unsafe("DELETE FROM kiln_peers WHERE owner = $1", [this.o.owner]).catch(() => {});
  }

  async #beat(): Promise<void> {
    await this.o.db.unsafe(
      "INSERT INTO kiln_peers (owner, pools_node, api_url, seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT (owner) DO UPDATE SET pools_node = $2, api_url = $3, seen_at = $4",
      [this.o.owner, this.o.node, this.o.apiUrl, Date.now()],
    );
    // Rows of Kilns long gone (killed without their stop): kept tidy by whoever beats.
    await this.o.db.unsafe("DELETE FROM kiln_peers WHERE seen_at < $1", [Date.now() - 10 * STALE_MS]);
  }
}

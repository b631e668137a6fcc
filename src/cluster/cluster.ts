/**
 * Several Kilns on one Postgres (KILN_DATABASE_URL): what they share besides the store. One
 * connection pool of its own for the shared job queue and the log notices, the cluster's id (the
 * `kiln.instance` label of everything any of them creates, so the leader's reconciler sees every
 * app and member), this process's owner id (new each start: a restarted Kiln is a new owner),
 * leader election, and `whileLeading` for the loops that must run once.
 *
 *   const cluster = await Cluster.open({ url, nodeId, say });
 *   cluster.whileLeading({ start: async () => …, stop: async () => … });
 *   await cluster.stop();
 *
 * Which loops run only on the leader, and why (main.ts wires them):
 * - reconciler passes and garbage collection: they remove containers and images nobody owns and
 *   fail interrupted work; two at once would fight (one adopting what the other removes);
 * - app convergence (restarts after a crash) and following app containers' output: one restart
 *   per exit, one publisher per container's lines;
 * - pools: adoption, refills, idle sweeps, periodic syncs, dead-member replacement (each would
 *   otherwise make or remove members twice) — led per pools node, not by the cluster's leader:
 *   members are node-local (their slots are host mounts), so each node's Kilns elect one of them
 *   (whileLeadingPoolsNode; a node is the Kilns sharing one KILN_POOLS_DIR);
 * - log retention and offload, the previews sweeper: each pass once (they also hold per-stream
 *   advisory locks, so an overlap at a handover is safe).
 * Everywhere: the API, claims (atomic in the store; each tenant's work in turn across Kilns,
 * tenantLock; a release or sync only on the member's node), the job queue (leases), the log tail, stats
 * (each Kiln samples for its own API) and loading routes into its own Caddy from the store.
 */
import { SQL } from "bun";
import { randomBytes } from "node:crypto";
import { errorMessage } from "../core/errors.ts";
import { PgLeadership, type Leadership } from "./leader.ts";
import { nodeLock } from "./node-lock.ts";
import { PgTenantLock } from "./tenant-lock.ts";

export interface ClusterOptions {
  url: string;
  /** This machine's Kiln id ($KILN_DATA_DIR/instance-id): commands it runs carry it (leftovers.ts). */
  nodeId: string;
  say: (line: string) => void;
  leaderIntervalMs?: number;
}

export class Cluster {
  private constructor(
    readonly db: SQL,
    /** Shared by every Kiln on this database: the label of what they create. */
    readonly id: string,
    /** This process: owner of its job leases, sender of its log notices. */
    readonly owner: string,
    readonly leadership: Leadership,
    private readonly say: (line: string) => void,
    private readonly url: string,
    private readonly leaderIntervalMs: number | undefined,
  ) {}

  static async open(o: ClusterOptions): Promise<Cluster> {
    const db = new SQL(o.url, { max: 4, connectionTimeout: 10 });
    const id = await clusterId(db);
    const owner = `${o.nodeId}-${randomBytes(4).toString("hex")}`;
    const leadership = await PgLeadership.start({ url: o.url, instance: owner, log: o.say, intervalMs: o.leaderIntervalMs });
    o.say(`cluster ${id}: this Kiln is ${owner}`);
    return new Cluster(db, id, owner, leadership, o.say, o.url, o.leaderIntervalMs);
  }

  /**
   * Runs `start` each time this Kiln begins to lead and `stop` each time it stops (and at stop()).
   * Calls never overlap: a stop waits for the start before it.
   */
  whileLeading(loops: Loops): void {
    this.#stops.push(runWhileLeading(this.leadership, loops, (what, err) => this.say(`cluster: ${what} the leader's loops: ${errorMessage(err)}`)));
  }

  /**
   * Runs `loops` while this Kiln leads its pools node: one Kiln of the Kilns sharing a pools
   * directory keeps that node's pools (src/cluster/node-lock.ts), whichever leads the cluster.
   */
  async whileLeadingPoolsNode(node: string, loops: Loops): Promise<void> {
    const lead = await PgLeadership.start({ url: this.url, instance: this.owner, lock: nodeLock(node), what: `pools node ${node}`, log: this.say, intervalMs: this.leaderIntervalMs });
    this.#stops.push(runWhileLeading(lead, loops, (what, err) => this.say(`pools node ${node}: ${what} its loops: ${errorMessage(err)}`)));
    this.#stops.push(() => lead.stop());
  }

  /** One tenant's claim, release and syncs at a time across the Kilns (a pool of connections of its own). */
  tenantLock(): PgTenantLock {
    this.#lockDb ??= new SQL(this.url, { max: 8, connectionTimeout: 10 });
    return new PgTenantLock(this.#lockDb);
  }

  #lockDb: SQL | null = null;
  readonly #stops: (() => Promise<void>)[] = [];

  /** Stops the leader's loops and gives up leadership (the pool stays open for the queue's last writes). */
  async stop(): Promise<void> {
    for (const s of this.#stops) await s();
    await this.leadership.stop();
  }

  /** Closes the pools: last, after the queue and the log tail have stopped. */
  async close(): Promise<void> {
    await this.db.close({ timeout: 5 }).catch(() => {});
    await this.#lockDb?.close({ timeout: 5 }).catch(() => {});
  }
}

export interface Loops {
  start: () => Promise<void> | void;
  stop: () => Promise<void> | void;
}

/**
 * Runs `loops.start` each time `leadership` begins and `loops.stop` each time it ends; calls never
 * overlap (a stop waits for the start before it). Returns what stops the loops for good.
 */
function runWhileLeading(leadership: Leadership, loops: Loops, fail: (what: string, err: unknown) => void): () => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let on = false;
  const step = (leading: boolean) => {
    chain = chain.then(async () => {
      if (leading === on) return;
      on = leading;
      try {
        await (leading ? loops.start() : loops.stop());
      } catch (err) {
        fail(leading ? "starting" : "stopping", err);
      }
    });
    return chain;
  };
  leadership.onChange((leading) => void step(leading));
  if (leadership.isLeader()) void step(true);
  return () => step(false);
}

/** The cluster's id: made by the first Kiln on the database, read by the others. */
async function clusterId(db: SQL): Promise<string> {
  await db.unsafe("INSERT INTO kiln_cluster (key, value) VALUES ('id', $1) ON CONFLICT (key) DO NOTHING", [randomBytes(8).toString("hex")]);
  const [row] = await db.unsafe<{ value: string }[]>("SELECT value FROM kiln_cluster WHERE key = 'id'");
  if (!row) throw new Error("the cluster id could not be read back");
  return row.value;
}

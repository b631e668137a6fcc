/**
 * StatsSampler: every 10 s, one sample per deployment — its containers' CPU, memory and network
 * from the engine (summed over replicas), and its requests from Caddy's access log — kept in a ring
 * of the last hour (sample.ts). Memory is bounded: 360 samples per deployment that exists, a
 * deployment's ring dropped when it is deleted, one previous reading per container.
 *
 *   const stats = new StatsSampler({ deployments, domains, reader, publicHost });
 *   const accessLog = listenForAccessLog((e) => stats.request(e)); // adapters/caddy/access-log.ts
 *   stats.start();
 *   stats.series(id);                                               // oldest first
 *
 * A sample's rates cover the time since the previous sample, whatever its length (sampleNow() may
 * end an interval early). Reading one container failing leaves that container out of the sample.
 */
import { Ring } from "./ring.ts";
import { containerFigures, type ReplicaCounters } from "./container-rates.ts";
import { ownerKey, ownerTable, resolveOwner, type OwnerTable } from "./request-owner.ts";
import { RequestWindow, type AccessEntry, type RequestTotals } from "./request-window.ts";
import { INTERVAL_SECONDS, SAMPLES_KEPT, STATUS_CLASSES, noStatus, type AppStatsSample, type ContainerCounters, type ContainerStatsReader } from "./sample.ts";
import { LatencyHistogram } from "./latency-histogram.ts";

/** The window key of requests already resolved to a deployment (owner keys start `p:` or `h:`). */
const ID_KEY = "id:";

/** What the sampler needs of a deployment. */
export interface SampledDeployment {
  id: string;
  name: string;
  instances: { containerId: string }[];
}

export interface StatsSamplerOptions {
  deployments: () => Promise<SampledDeployment[]>;
  /** The apps' own domains. */
  domains: () => Promise<{ host: string; deploymentId: string }[]>;
  reader: ContainerStatsReader;
  publicHost: string;
  intervalMs?: number;
  now?: () => number;
  /** A sample that failed as a whole (the store or engine away); default: dropped silently. */
  onError?: (err: unknown) => void;
  /** Told of each interval's requests per deployment (only those with requests): several Kilns share them. */
  onRequests?: (ts: number, perDeployment: ReadonlyMap<string, RequestTotals>) => void;
}

export class StatsSampler {
  readonly #o: StatsSamplerOptions;
  readonly #rings = new Map<string, Ring<AppStatsSample>>();
  readonly #previous = new Map<string, ContainerCounters>();
  readonly #window = new RequestWindow();
  /** Owner keys → deployments, as of the last sample: requests of known apps are counted by id at once. */
  #table: OwnerTable | null = null;
  readonly #now: () => number;
  #lastTick: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<void> | null = null;

  constructor(o: StatsSamplerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#lastTick = this.#now();
  }

  get intervalSeconds(): number {
    return INTERVAL_SECONDS;
  }

  start(): void {
    if (this.#timer) return;
    this.#lastTick = this.#now();
    this.#timer = setInterval(() => void this.sampleNow().catch(() => undefined), this.#o.intervalMs ?? INTERVAL_SECONDS * 1000);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /** A request Caddy answered (from its access log). */
  request(e: AccessEntry): void {
    const key = ownerKey(e.host, e.uri, this.#o.publicHost);
    const id = this.#table ? resolveOwner(key, this.#table) : null;
    if (id) this.#window.add(`${ID_KEY}${id}`, e, true);
    else this.#window.add(key, e);
  }

  /** The kept samples of a deployment, oldest first ([] when none yet). */
  series(deploymentId: string): AppStatsSample[] {
    return this.#rings.get(deploymentId)?.items() ?? [];
  }

  /** End the interval now and take a sample of every deployment (concurrent calls share one). */
  sampleNow(): Promise<void> {
    this.#running ??= this.#sample().finally(() => (this.#running = null));
    return this.#running;
  }

  async #sample(): Promise<void> {
    try {
      const [deployments, domains] = await Promise.all([this.#o.deployments(), this.#o.domains()]);
      const requests = this.#window.drain();
      const now = this.#now();
      const seconds = Math.max(0.001, (now - this.#lastTick) / 1000);
      this.#lastTick = now;
      const table = ownerTable(this.#o.publicHost, deployments, domains);
      this.#table = table;
      const perDeployment = new Map<string, RequestTotals>();
      for (const [key, totals] of requests) {
        const id = key.startsWith(ID_KEY) ? key.slice(ID_KEY.length) : resolveOwner(key, table);
        if (id) perDeployment.set(id, merge(perDeployment.get(id), totals));
      }
      if (perDeployment.size > 0) this.#o.onRequests?.(now, perDeployment);
      const seen = new Set<string>();
      await Promise.all(
        deployments.map(async (d) => {
          const figures = containerFigures(await this.#replicas(d, seen));
          const req = perDeployment.get(d.id);
          const sample: AppStatsSample = {
            ts: now,
            ...figures,
            requestsPerSec: (req?.count ?? 0) / seconds,
            status: req?.status ?? noStatus(),
            latencyP50Ms: req?.latency.quantile(0.5) ?? null,
            latencyP95Ms: req?.latency.quantile(0.95) ?? null,
          };
          this.#ring(d.id).push(sample);
        }),
      );
      const ids = new Set(deployments.map((d) => d.id));
      for (const id of this.#rings.keys()) if (!ids.has(id)) this.#rings.delete(id);
      for (const c of this.#previous.keys()) if (!seen.has(c)) this.#previous.delete(c);
    } catch (err) {
      this.#o.onError?.(err);
      throw err;
    }
  }

  async #replicas(d: SampledDeployment, seen: Set<string>): Promise<ReplicaCounters[]> {
    const read = await Promise.all(d.instances.map((i) => this.#o.reader.counters(i.containerId).catch(() => null).then((now) => ({ id: i.containerId, now }))));
    const out: ReplicaCounters[] = [];
    for (const { id, now } of read) {
      if (!now) continue;
      seen.add(id);
      out.push({ now, before: this.#previous.get(id) });
      this.#previous.set(id, now);
    }
    return out;
  }

  #ring(id: string): Ring<AppStatsSample> {
    let ring = this.#rings.get(id);
    if (!ring) {
      ring = new Ring<AppStatsSample>(SAMPLES_KEPT);
      this.#rings.set(id, ring);
    }
    return ring;
  }
}

/** Two keys of one deployment (its host and its /d/<id> path) in one total. */
function merge(a: RequestTotals | undefined, b: RequestTotals): RequestTotals {
  if (!a) return b;
  const status = noStatus();
  for (const c of STATUS_CLASSES) status[c] = a.status[c] + b.status[c];
  const latency = new LatencyHistogram();
  latency.merge(a.latency);
  latency.merge(b.latency);
  return { count: a.count + b.count, status, latency };
}

/**
 * Requests of the current interval, grouped by key as Caddy's access log delivers them: a count per
 * status class and a latency histogram per key. `drain()` hands the interval over and starts the
 * next. Keys the caller already knows to be an app's (`known`: at most one per deployment) are always
 * taken; of the others (hosts not yet resolved, request-owner.ts) at most MAX_KEYS per interval, so
 * requests with made-up Host headers cannot grow it without bound — requests for further ones are
 * counted as dropped.
 */
import { LatencyHistogram } from "./latency-histogram.ts";
import { noStatus, type StatusCounts } from "./sample.ts";

export const MAX_KEYS = 2000;

export interface RequestTotals {
  count: number;
  status: StatusCounts;
  latency: LatencyHistogram;
}

/** One request as Caddy logged it. */
export interface AccessEntry {
  host: string;
  uri: string;
  status: number;
  durationMs: number;
}

export class RequestWindow {
  #byKey = new Map<string, RequestTotals>();
  #unknownKeys = 0;
  #dropped = 0;

  /** Requests not counted because the interval already had MAX_KEYS keys (since the last drain). */
  get dropped(): number {
    return this.#dropped;
  }

  add(key: string, e: AccessEntry, known = false): void {
    let t = this.#byKey.get(key);
    if (!t) {
      if (!known && this.#unknownKeys >= MAX_KEYS) {
        this.#dropped++;
        return;
      }
      if (!known) this.#unknownKeys++;
      t = { count: 0, status: noStatus(), latency: new LatencyHistogram() };
      this.#byKey.set(key, t);
    }
    t.count++;
    const cls = `${Math.floor(e.status / 100)}xx`;
    if (cls in t.status) t.status[cls as keyof StatusCounts]++;
    t.latency.add(e.durationMs);
  }

  drain(): Map<string, RequestTotals> {
    const out = this.#byKey;
    this.#byKey = new Map();
    this.#unknownKeys = 0;
    this.#dropped = 0;
    return out;
  }
}

/**
 * Request durations of one interval in a fixed log-scale histogram: 10% wide buckets from 0.05 ms
 * to about 3 hours, so a bucket's memory is the same for ten requests or ten million, and a
 * quantile is off by at most 5% (the geometric middle of its bucket).
 */
const MIN_MS = 0.05;
const GROWTH = 1.1;
const BUCKETS = 200;
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;

  get count(): number {
    return this.#total;
  }

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH) + 1);
    this.#counts[i]!++;
    this.#total++;
  }

  /** Add another histogram's counts to this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#total += other.#total;
  }

  /** The non-empty buckets as [index, count] pairs (what is kept in the store, several Kilns). */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]) out.push([i, this.#counts[i]!]);
    return out;
  }

  /** A histogram from toSparse()'s pairs; pairs out of range are ignored. */
  static fromSparse(pairs: readonly (readonly [number, number])[]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const [i, n] of pairs) {
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS || !Number.isInteger(n) || n <= 0) continue;
      h.#counts[i]! += n;
      h.#total += n;
    }
    return h;
  }

  /** The q-quantile (0 < q ≤ 1) in ms, null when empty. */
  quantile(q: number): number | null {
    if (this.#total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return i === 0 ? MIN_MS : MIN_MS * GROWTH ** (i - 0.5);
    }
    return MIN_MS * GROWTH ** (BUCKETS - 1);
  }
}

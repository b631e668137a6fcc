/**
 * A seeded PRNG (mulberry32) for the chaos suite: the same seed replays the same choices — which
 * fault, which operation, how long after it starts Kiln is killed — so a failing run can be rerun
 * with `KILN_CHAOS_SEED=<seed>`.
 */
export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** A random subset of `items` with between 1 and `max` elements (fewer if there are fewer). */
  some<T>(items: readonly T[], max: number): T[];
}

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    some(items, max) {
      const pool = [...items];
      const n = Math.min(pool.length, int(1, max));
      const out = [];
      for (let i = 0; i < n; i++) out.push(pool.splice(int(0, pool.length - 1), 1)[0]!);
      return out;
    },
  };
}

/** The seed from KILN_CHAOS_SEED when given (a replay), else a fresh one. */
export function chaosSeed(fromEnv: string | undefined): number {
  const n = Number(fromEnv);
  return fromEnv && Number.isInteger(n) ? n >>> 0 : Math.floor(Math.random() * 2 ** 32);
}

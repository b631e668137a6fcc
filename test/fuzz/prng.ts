/**
 * A seeded PRNG for the fuzz suite (sfc32, seeded from one 32-bit number), so a failing case
 * can be replayed: every run prints its seed, and KILN_FUZZ_SEED=<seed> runs the same cases.
 *
 *   const rng = new Rng(fuzzSeed("tar"));
 *   rng.int(0, 9); rng.pick(["a", "b"]); rng.bytes(16);
 */

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(readonly seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** In [0, 1). */
  float(): number {
    return this.next() / 2 ** 32;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A child generator: its own stream, derived from this one (one per case, so cases replay alone). */
  fork(): Rng {
    return new Rng(this.next());
  }
}

/** The seed for one target: KILN_FUZZ_SEED if set, else a fresh random one. Printed by the caller. */
export function fuzzSeed(): number {
  const given = process.env.KILN_FUZZ_SEED;
  if (given !== undefined && given !== "") {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`KILN_FUZZ_SEED must be a 32-bit unsigned integer, not ${given}`);
    return n;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** Case `index` of the run seeded with `seed`: its own stream, so one case replays alone. */
export function caseRng(seed: number, index: number): Rng {
  return new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

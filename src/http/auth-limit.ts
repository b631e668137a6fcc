/**
 * A limit on failed authentication, per client address. After `maxFailures` failures within a
 * window (which starts at an address's first failure), that address's further failures are
 * answered 429 with Retry-After until the window ends. Only failures are limited: a request with the
 * right token always passes, so whoever shares an address with the real user (another tenant
 * behind the same NAT, or every client behind one proxy) cannot lock them out.
 *
 * Memory is bounded: at most `maxAddresses` entries, the least recently failing dropped first.
 * IPv6 addresses count per /64 (one host usually holds a whole /64).
 *
 *   if (tokenMatches) return next();                 // never limited
 *   const wait = limiter.retryAfter(address);
 *   if (wait > 0) return 429, Retry-After: wait;     // not counted
 *   limiter.fail(address); return 401;
 */

export interface FailureLimits {
  /** Failures allowed per address and window before 429s. */
  maxFailures: number;
  windowMs: number;
  /** Addresses remembered at most. */
  maxAddresses: number;
}

export const AUTH_FAILURE_LIMIT: Readonly<FailureLimits> = { maxFailures: 20, windowMs: 60_000, maxAddresses: 10_000 };

interface Window {
  failures: number;
  endsAt: number;
}

export class FailureLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #opts: FailureLimits;
  readonly #now: () => number;

  constructor(opts: Partial<FailureLimits> = {}, now: () => number = Date.now) {
    this.#opts = { ...AUTH_FAILURE_LIMIT, ...opts };
    this.#now = now;
  }

  /** Seconds until this address may fail again; 0 when it is under its limit. */
  retryAfter(address: string): number {
    const w = this.#windows.get(limiterKey(address));
    const now = this.#now();
    if (!w || now >= w.endsAt || w.failures < this.#opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
  }

  /** Count one failure from this address. */
  fail(address: string): void {
    const key = limiterKey(address);
    const now = this.#now();
    const w = this.#windows.get(key);
    this.#windows.delete(key); // re-inserted last: Map order is least recently failing first
    this.#windows.set(key, w && now < w.endsAt ? { failures: w.failures + 1, endsAt: w.endsAt } : { failures: 1, endsAt: now + this.#opts.windowMs });
    while (this.#windows.size > this.#opts.maxAddresses) this.#windows.delete(this.#windows.keys().next().value!);
  }

  /** Addresses tracked (for tests of the bound). */
  get size(): number {
    return this.#windows.size;
  }
}

/** IPv4 as is (also IPv4-mapped IPv6); IPv6 by its /64 prefix; anything else as given. */
export function limiterKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.toLowerCase().split("%")[0]!.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

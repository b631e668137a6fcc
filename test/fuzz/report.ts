/**
 * What a fuzz target tried and found: cases, failures (each with the case's seed and what went
 * wrong, so it can be replayed with KILN_FUZZ_SEED and KILN_FUZZ_CASE), the slowest case, and
 * how much the process's RSS grew. `print` writes one summary line per target.
 */

export interface Failure {
  /** Index of the case within the run (replay: KILN_FUZZ_SEED=<seed> KILN_FUZZ_CASE=<case>). */
  index: number;
  label: string;
  problem: string;
}

export class FuzzReport {
  cases = 0;
  readonly failures: Failure[] = [];
  /** What the cases ended in (e.g. "ok", "bad_request", "400"), counted. */
  readonly outcomes = new Map<string, number>();
  slowest = { ms: 0, label: "" };
  readonly #rssStart = process.memoryUsage().rss;
  readonly #heapStart = heapAfterGc();
  #rssPeak = this.#rssStart;

  constructor(
    readonly target: string,
    readonly seed: number,
    readonly planned = 0,
  ) {
    console.log(`fuzz ${target}: seed ${seed}, ${planned} cases (replay: KILN_FUZZ_SEED=${seed})`);
  }

  /** Times one case and records its outcome; a thrown error is a failure. */
  async run(index: number, label: string, fn: () => Promise<string>): Promise<void> {
    this.cases++;
    const t0 = performance.now();
    try {
      const outcome = await fn();
      this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    } catch (err) {
      this.fail(index, label, err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    const ms = performance.now() - t0;
    if (ms > this.slowest.ms) this.slowest = { ms, label: `#${index} ${label}` };
    if (index % 50 === 0) this.#rssPeak = Math.max(this.#rssPeak, process.memoryUsage().rss);
    if (this.planned >= 1000 && this.cases % 500 === 0) console.log(`fuzz ${this.target}: ${this.cases}/${this.planned}, ${this.failures.length} failures`);
  }

  fail(index: number, label: string, problem: string): void {
    this.failures.push({ index, label, problem: problem.slice(0, 2000) });
  }

  get rssGrowthMiB(): number {
    const now = Math.max(this.#rssPeak, process.memoryUsage().rss);
    return Math.round(((now - this.#rssStart) / (1024 * 1024)) * 10) / 10;
  }

  /** Heap still held after a full collection, against the start: a leak shows here, a peak does not. */
  get heapRetainedMiB(): number {
    return Math.round(((heapAfterGc() - this.#heapStart) / (1024 * 1024)) * 10) / 10;
  }

  summary(): string {
    const outcomes = [...this.outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(" ");
    return [
      `fuzz ${this.target}: seed ${this.seed}, ${this.cases} cases, ${this.failures.length} failures`,
      `  slowest ${this.slowest.ms.toFixed(1)} ms (${this.slowest.label.slice(0, 120)}), RSS growth ${this.rssGrowthMiB} MiB (peak), heap retained ${this.heapRetainedMiB} MiB`,
      `  outcomes: ${outcomes}`,
      ...this.failures.slice(0, 10).map((f) => `  FAIL #${f.index} ${f.label.slice(0, 160)}: ${f.problem.split("\n").slice(0, 6).join("\n    ")}`),
    ].join("\n");
  }

  print(): void {
    console.log(this.summary());
  }
}

function heapAfterGc(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

/** KILN_FUZZ_CASE=<n>: run only case n of the seeded run (replay one failure). */
export function onlyCase(): number | undefined {
  const given = process.env.KILN_FUZZ_CASE;
  return given ? Number(given) : undefined;
}

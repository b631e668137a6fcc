/**
 * A small metrics registry: counters, gauges and histograms with labels, rendered in Prometheus'
 * text format (./text.ts). Series appear in the order they were first touched; label values are
 * given as an object whose keys must be exactly the metric's label names.
 *
 *   const reg = new Registry();
 *   const builds = reg.counter("kiln_builds_total", "Builds by result", ["result"]);
 *   builds.inc({ result: "succeeded" });
 *   reg.collect(() => members.set({ workload: "echo", status: "ready" }, 2)); // at scrape time
 *   const body = await reg.render();
 *
 * A metric without labels shows its zero before the first event (a counter that exists reads 0,
 * not absent); a labelled one shows only the series that were touched.
 */
import { checkNames, headerLines, sampleLine, type Labels } from "./text.ts";

abstract class Metric<L extends string> {
  protected readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {
    checkNames(name, labelNames);
  }

  /** The series' key, after checking that exactly the declared labels were given. */
  protected key(labels: Partial<Record<L, string>>): { key: string; labels: Labels } {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || this.labelNames.some((l) => typeof labels[l] !== "string")) {
      throw new Error(`metrics: ${this.name} takes labels [${this.labelNames.join(", ")}], got [${given.join(", ")}]`);
    }
    const ordered: Record<string, string> = {};
    for (const l of this.labelNames) ordered[l] = labels[l]!;
    return { key: JSON.stringify(this.labelNames.map((l) => labels[l])), labels: ordered };
  }

  protected add(labels: Partial<Record<L, string>>, by: number): void {
    const { key, labels: ordered } = this.key(labels);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: ordered, value: by });
  }

  /** The current value of one series (0 when never touched): for tests and collectors. */
  get(labels: Partial<Record<L, string>> = {}): number {
    return this.series.get(this.key(labels).key)?.value ?? 0;
  }

  abstract render(): string[];
}

export class Counter<L extends string = never> extends Metric<L> {
  readonly #tracked = new Map<string, { labels: Labels; read: () => number }>();

  inc(labels: Record<L, string> = {} as Record<L, string>, by = 1): void {
    if (!(by >= 0)) throw new Error(`metrics: counter ${this.name} can only go up (got ${by})`);
    this.add(labels, by);
  }

  /** A series counted elsewhere (a service's own tally), read at every render. */
  track(labels: Record<L, string>, read: () => number): void {
    const { key, labels: ordered } = this.key(labels);
    this.#tracked.set(key, { labels: ordered, read });
  }

  override get(labels: Partial<Record<L, string>> = {}): number {
    const key = this.key(labels).key;
    return this.#tracked.get(key)?.read() ?? super.get(labels);
  }

  render(): string[] {
    const out = headerLines(this.name, this.help, "counter");
    if (this.labelNames.length === 0 && this.series.size === 0 && this.#tracked.size === 0) out.push(sampleLine(this.name, {}, 0));
    for (const s of this.series.values()) out.push(sampleLine(this.name, s.labels, s.value));
    for (const t of this.#tracked.values()) out.push(sampleLine(this.name, t.labels, t.read()));
    return out;
  }
}

export class Gauge<L extends string = never> extends Metric<L> {
  set(labels: Record<L, string>, value: number): void {
    const { key, labels: ordered } = this.key(labels);
    this.series.set(key, { labels: ordered, value });
  }

  inc(labels: Record<L, string> = {} as Record<L, string>, by = 1): void {
    this.add(labels, by);
  }

  dec(labels: Record<L, string> = {} as Record<L, string>, by = 1): void {
    this.add(labels, -by);
  }

  /** Forget every series: a collector that recomputes the gauge from scratch calls this first. */
  clear(): void {
    this.series.clear();
  }

  render(): string[] {
    const out = headerLines(this.name, this.help, "gauge");
    if (this.labelNames.length === 0 && this.series.size === 0) out.push(sampleLine(this.name, {}, 0));
    for (const s of this.series.values()) out.push(sampleLine(this.name, s.labels, s.value));
    return out;
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L> {
  readonly buckets: readonly number[];
  readonly #hseries = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`metrics: ${name} needs finite buckets in increasing order`);
    }
    this.buckets = [...buckets];
  }

  observe(labels: Record<L, string>, value: number): void {
    const { key, labels: ordered } = this.key(labels);
    let s = this.#hseries.get(key);
    if (!s) {
      s = { labels: ordered, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.#hseries.set(key, s);
    }
    const i = this.buckets.findIndex((b) => value <= b);
    s.counts[i === -1 ? this.buckets.length : i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations of one series (0 when never touched). */
  override get(labels: Partial<Record<L, string>> = {}): number {
    return this.#hseries.get(this.key(labels).key)?.count ?? 0;
  }

  render(): string[] {
    const out = headerLines(this.name, this.help, "histogram");
    const all = [...this.#hseries.values()];
    if (this.labelNames.length === 0 && all.length === 0) {
      all.push({ labels: {}, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 });
    }
    for (const s of all) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        out.push(sampleLine(`${this.name}_bucket`, { ...s.labels, le: String(b) }, cumulative));
      });
      out.push(sampleLine(`${this.name}_bucket`, { ...s.labels, le: "+Inf" }, s.count));
      out.push(sampleLine(`${this.name}_sum`, s.labels, s.sum));
      out.push(sampleLine(`${this.name}_count`, s.labels, s.count));
    }
    return out;
  }
}

export class Registry {
  readonly #metrics = new Map<string, { readonly name: string; render(): string[] }>();
  readonly #collectors: (() => void | Promise<void>)[] = [];

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.#register(new Counter<L>(name, help, labelNames));
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.#register(new Gauge<L>(name, help, labelNames));
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): Histogram<L> {
    return this.#register(new Histogram<L>(name, help, labelNames, buckets));
  }

  /** Runs before every render: gauges computed from the services' state at scrape time. */
  collect(fn: () => void | Promise<void>): void {
    this.#collectors.push(fn);
  }

  /** The whole exposition, metrics in registration order, ending with a newline. */
  async render(): Promise<string> {
    for (const fn of this.#collectors) await fn();
    const lines: string[] = [];
    for (const m of this.#metrics.values()) lines.push(...m.render());
    return lines.length ? `${lines.join("\n")}\n` : "";
  }

  #register<M extends { readonly name: string; render(): string[] }>(m: M): M {
    if (this.#metrics.has(m.name)) throw new Error(`metrics: ${m.name} is registered twice`);
    this.#metrics.set(m.name, m);
    return m;
  }
}

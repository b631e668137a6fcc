/**
 * GET /health's answer: do Docker, Caddy's admin API and the tenant resolver answer, and for each
 * one that does not, what is down and what to do about it. `ok` is true only when all three answer.
 *
 * Guarantees, so a dashboard or a load balancer may poll it freely:
 *   - the three probes run concurrently, each cut off after `timeoutMs`: its AbortSignal fires and,
 *     should a probe ignore it, the probe still counts as down at that moment;
 *   - a report is reused for `cacheMs` after it completed;
 *   - callers arriving while probes run share that run: never two runs at once.
 *
 *   const health = new HealthCheck({ probes: { docker: (signal) => engine.ping(signal).then(() => true), … }, explain });
 *   const report = await health.report(); // report.ok ? 200 : 503
 */

export const DEPENDENCIES = ["docker", "caddy", "tenantResolver"] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/** Resolves true when the dependency answers; false or a rejection both mean down. */
export type Probe = (signal: AbortSignal) => Promise<boolean>;

export interface Explanation {
  /** What does not answer, and where. */
  message: string;
  /** What the person running Kiln can do about it. */
  hint: string;
}

export interface DownDependency extends Explanation {
  dependency: Dependency;
}

export interface HealthReport {
  ok: boolean;
  docker: boolean;
  caddy: boolean;
  tenantResolver: boolean;
  /** One entry per dependency that did not answer, in DEPENDENCIES order. */
  down: DownDependency[];
}

/** Where each dependency is configured: enough to say what is down and which variable moves it. */
export interface HealthSetting {
  dockerSocket: string;
  caddyAdmin: string;
  manageCaddy: boolean;
  tenantResolver: string;
}

/** What a dependency being down means, naming the config variables (src/config.ts) that move it. */
export function explainDown(dependency: Dependency, s: HealthSetting): Explanation {
  switch (dependency) {
    case "docker":
      return {
        message: `the Docker engine does not answer on ${s.dockerSocket}`,
        hint: "start dockerd (e.g. `systemctl start docker`), or set KILN_DOCKER_SOCKET to the socket it listens on",
      };
    case "caddy":
      return {
        message: `Caddy's admin API does not answer at ${s.caddyAdmin}`,
        hint: s.manageCaddy
          ? "Kiln restarts the Caddy it runs by itself; if this lasts, check that `caddy` is installed and that the ports of KILN_CADDY_ADMIN and KILN_PUBLIC_PORT are free"
          : "start your Caddy with its admin API at KILN_CADDY_ADMIN, or set KILN_MANAGE_CADDY=1 to let Kiln run one",
      };
    case "tenantResolver":
      return {
        message: `the tenant resolver does not answer on udp ${s.tenantResolver}`,
        hint: "Kiln restarts it within a second; if this lasts, check that the UDP port KILN_TENANT_DNS_PORT is free (0 picks a free one)",
      };
  }
}

/** The report for a set of probe results: pure. */
export function healthReport(up: Record<Dependency, boolean>, explain: (d: Dependency) => Explanation): HealthReport {
  const down = DEPENDENCIES.filter((d) => !up[d]).map((d) => ({ dependency: d, ...explain(d) }));
  return { ok: down.length === 0, docker: up.docker, caddy: up.caddy, tenantResolver: up.tenantResolver, down };
}

/** One probe's verdict within `timeoutMs`: its signal is aborted at the deadline, and the answer is then false. */
export async function probeWithin(probe: Probe, timeoutMs: number): Promise<boolean> {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      ctl.abort(new Error(`no answer within ${timeoutMs}ms`));
      resolve(false);
    }, timeoutMs);
  });
  try {
    const answer = new Promise<boolean>((resolve) => resolve(probe(ctl.signal))); // a synchronous throw is a rejection too
    return await Promise.race([answer.then((ok) => ok === true, () => false), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthCheckOptions {
  probes: Record<Dependency, Probe>;
  explain: (d: Dependency) => Explanation;
  /** How long a completed report is reused (default 1000 ms). */
  cacheMs?: number;
  /** Each probe's deadline (default 2000 ms). */
  timeoutMs?: number;
  now?: () => number;
}

export class HealthCheck {
  readonly #o: Required<HealthCheckOptions>;
  #last: { at: number; report: HealthReport } | null = null;
  #inFlight: Promise<HealthReport> | null = null;

  constructor(o: HealthCheckOptions) {
    this.#o = { cacheMs: 1000, timeoutMs: 2000, now: Date.now, ...o };
  }

  report(): Promise<HealthReport> {
    const last = this.#last;
    if (last && this.#o.now() - last.at < this.#o.cacheMs) return Promise.resolve(last.report);
    this.#inFlight ??= this.#probe().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #probe(): Promise<HealthReport> {
    const results = await Promise.all(DEPENDENCIES.map((d) => probeWithin(this.#o.probes[d], this.#o.timeoutMs)));
    const up = Object.fromEntries(DEPENDENCIES.map((d, i) => [d, results[i]!])) as Record<Dependency, boolean>;
    const report = healthReport(up, this.#o.explain);
    this.#last = { at: this.#o.now(), report };
    return report;
  }
}

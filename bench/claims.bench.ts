/**
 * Claim latency by source — pool, existing, cold — p50/p99 as Kiln measures it at the server
 * (the response's latencyMs) and as the client sees it, beside `docker run` of the same image
 * until healthy (Engine API create + start + poll health), all in the same run, printed as ratios.
 * After each pool claim the new container gets its first request: every other time through Caddy at
 * the tenant's URL, otherwise straight at its published port (the baseline). A claim is only worth
 * its latency if the route answers as soon as it returns.
 *
 * The warm pool's members probe their health every 2 s (`--health`): on this 2-core machine, 20
 * members probing every 300 ms keep both cores ~99% busy (load ≈ 22) with `docker exec`s alone, and
 * then every process on it stalls now and then for tens of milliseconds. The CPU busy share during the
 * pool claims is printed, so a run on a saturated machine shows as one.
 *
 *   bun bench/claims.bench.ts [--rounds 10] [--pool 20] [--existing 200] [--cold 10] [--docker 10] [--health 2s]
 */
import { readFileSync } from "node:fs";
import { startTestKiln } from "../test/helpers/kiln.ts";
import { workloadYaml, writeWorkload } from "../test/helpers/workloads.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg("rounds", 10);
const POOL = arg("pool", 20);
const EXISTING = arg("existing", 200);
const COLD = arg("cold", 10);
const DOCKER = arg("docker", 10);
const LIMIT_MS = 120_000;
const HEALTH = (() => {
  const i = process.argv.indexOf("--health");
  return i > 0 ? process.argv[i + 1]! : "2s";
})();

/** Busy and total CPU ticks of the whole machine so far (/proc/stat). */
const cpuTicks = () => {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
};
const cpu = { busy: 0, total: 0 };
const measuringCpu = async <T>(fn: () => Promise<T>): Promise<T> => {
  const a = cpuTicks();
  try {
    return await fn();
  } finally {
    const b = cpuTicks();
    cpu.busy += b.busy - a.busy;
    cpu.total += b.total - a.total;
  }
};

const engine = (path: string, init: RequestInit = {}) => fetch(`http://docker/v1.41${path}`, { ...init, unix: "/var/run/docker.sock" } as RequestInit);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const f = (ms: number) => `${ms.toFixed(1)} ms`;

const kiln = await startTestKiln({ KILN_POOL_CONCURRENCY: "4" });
const dir = kiln.config.pools.workloadsDir;
const claim = async (tenant: string, workload: string) => {
  const t0 = performance.now();
  const res = await kiln.api(`/tenants/${tenant}/claim`, { method: "POST", body: JSON.stringify({ workload }), headers: { "content-type": "application/json" } });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`claim ${tenant}: ${res.status} ${JSON.stringify(body)}`);
  return { server: body.latencyMs as number, client: performance.now() - t0, source: body.source as string, port: body.endpoint.port as number };
};
/** The first request to a just-claimed container: through Caddy at the tenant's URL, or direct. */
const first = { caddy: [] as number[], direct: [] as number[], failed: [] as string[] };
const firstRequest = async (tenant: string, workload: string, port: number, how: "caddy" | "direct") => {
  const t0 = performance.now();
  const res =
    how === "caddy"
      ? await fetch(`http://127.0.0.1:${kiln.publicPort}/`, { headers: { host: `${tenant}.${workload}.localhost` } })
      : await fetch(`http://127.0.0.1:${port}/`);
  const text = await res.text();
  first[how].push(performance.now() - t0);
  if (res.status !== 200 || !text.includes("secret")) first.failed.push(`${tenant} (${how}): ${res.status} ${text.slice(0, 80)}`);
};
const release = (tenant: string, workload: string) =>
  kiln.api(`/tenants/${tenant}/release`, { method: "POST", body: JSON.stringify({ workload }), headers: { "content-type": "application/json" } }).then((r) => r.text());
async function readyCount(workload: string): Promise<number> {
  const pools = (await (await kiln.api("/pools")).json()) as any;
  return pools.pools.find((p: any) => p.workload === workload)?.counts.ready ?? 0;
}
async function waitReady(workload: string, n: number) {
  const deadline = Date.now() + LIMIT_MS;
  while ((await readyCount(workload)) < n) {
    if (Date.now() > deadline) throw new Error(`${workload}: pool never reached ${n} ready`);
    await Bun.sleep(100);
  }
}

const samples: Record<string, { server: number[]; client: number[] }> = { pool: { server: [], client: [] }, existing: { server: [], client: [] }, cold: { server: [], client: [] } };
const record = (r: { server: number; client: number; source: string }) => {
  samples[r.source]!.server.push(r.server);
  samples[r.source]!.client.push(r.client);
};

try {
  writeWorkload(dir, "warm", workloadYaml("warm", { min: POOL, max: POOL, healthInterval: HEALTH }));
  writeWorkload(dir, "cold", workloadYaml("cold", { min: 0, max: 1 }));

  // pool: ROUNDS rounds of POOL claims, one at a time, from a full pool; then release all and let it refill
  for (let r = 0; r < ROUNDS; r++) {
    await waitReady("warm", POOL);
    await measuringCpu(async () => {
      for (let i = 0; i < POOL; i++) {
        const c = await claim(`r${r}-t${i}`, "warm");
        record(c);
        await firstRequest(`r${r}-t${i}`, "warm", c.port, i % 2 === 0 ? "caddy" : "direct");
      }
    });
    if (r === 0) for (let i = 0; i < EXISTING; i++) record(await claim(`r0-t${i % POOL}`, "warm")); // existing
    for (let i = 0; i < POOL; i++) await release(`r${r}-t${i}`, "warm");
  }
  // cold: a pool with min_size 0
  for (let i = 0; i < COLD; i++) {
    record(await claim(`c${i}`, "cold"));
    await release(`c${i}`, "cold");
  }

  // baseline: docker run of the same image until healthy
  const w = workloadYaml("x");
  const cmd = JSON.parse(/command: (.*)/.exec(w)![1]!) as string[];
  const dockerMs: number[] = [];
  for (let i = 0; i < DOCKER; i++) {
    const t0 = performance.now();
    const created = (await (
      await engine("/containers/create", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          Image: "kiln/node-runtime:20-host",
          Cmd: cmd,
          User: "1000:1000",
          Labels: { "kiln.bench": "1" },
          Healthcheck: { Test: ["CMD", "busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"], Interval: 300e6, Timeout: 2e9, Retries: 5, StartPeriod: 60e9 },
          HostConfig: { ReadonlyRootfs: true, CapDrop: ["ALL"], Tmpfs: { "/tmp": "size=64m" } },
        }),
      })
    ).json()) as { Id: string };
    await (await engine(`/containers/${created.Id}/start`, { method: "POST" })).text();
    const deadline = Date.now() + LIMIT_MS;
    for (;;) {
      const info = (await (await engine(`/containers/${created.Id}/json`)).json()) as any;
      if (info.State?.Health?.Status === "healthy") break;
      if (Date.now() > deadline) throw new Error("docker run never became healthy");
      await Bun.sleep(10);
    }
    dockerMs.push(performance.now() - t0);
    await (await engine(`/containers/${created.Id}?force=1`, { method: "DELETE" })).text();
  }

  const base = pct(dockerMs, 50);
  console.log(`claim latency (server-measured latencyMs; client round trip in brackets), docker run until healthy p50 ${f(base)} p99 ${f(pct(dockerMs, 99))} (n=${dockerMs.length})`);
  console.log(`  warm pool: ${POOL} members probing health every ${HEALTH}; machine CPU busy during the pool claims: ${((100 * cpu.busy) / cpu.total).toFixed(0)}%`);
  for (const [source, s] of Object.entries(samples)) {
    if (!s.server.length) continue;
    const p50 = pct(s.server, 50);
    const p99 = pct(s.server, 99);
    console.log(
      `  ${source.padEnd(8)} n=${String(s.server.length).padStart(3)}  p50 ${f(p50)}  p99 ${f(p99)}  [client p50 ${f(pct(s.client, 50))} p99 ${f(pct(s.client, 99))}]  p50 ratio vs docker run ${(p50 / base).toFixed(4)}x`,
    );
  }
  const [fc, fd] = [pct(first.caddy, 50), pct(first.direct, 50)];
  console.log(
    `  first request right after a pool claim: through Caddy n=${first.caddy.length} p50 ${f(fc)} p99 ${f(pct(first.caddy, 99))}; direct n=${first.direct.length} p50 ${f(fd)} p99 ${f(pct(first.direct, 99))}; p50 ratio ${(fc / fd).toFixed(2)}x; not answered: ${first.failed.length}${first.failed.length ? ` (${first.failed.slice(0, 3).join("; ")})` : ""}`,
  );
  const total = Object.values(samples).reduce((n, s) => n + s.server.length, 0);
  console.log(`  total claims: ${total}; pool p99 target < 20 ms: ${pct(samples.pool!.server, 99) < 20 ? "met" : "NOT met"}`);
} finally {
  await kiln.stop();
}

/**
 * What "recovered" means after a fault, probed from outside as a user would, and when each part of
 * it first held: an app answers through Caddy at its URL with its own page; a claimed tenant answers
 * at its URL with its state file and secret; a pool has at least min_size ready members whose
 * containers really run healthy (the engine's word, not Kiln's store). Shared by
 * test/recovery/*.test.ts and bench/recovery.bench.ts. Loopback traffic only; every loop is bounded.
 *
 *   const times = await watchRecovery([appProbe(...), tenantProbe(...), poolProbe(...)], { deadlineMs: 120_000 });
 *   // { "app alpha": 1710000000123, "pool keep": null, ... } (epoch ms first seen, null: not by the deadline)
 */
import type { EngineEvents } from "../../src/core/ports/engine-events.ts";
import { DOCKER_SOCKET } from "./dockerd.ts";

export interface Probe {
  label: string;
  /** True once the thing answers as it should; never throws. */
  ok(): Promise<boolean>;
}

const PROBE_TIMEOUT_MS = 2000;
const get = (url: string, host: string) => fetch(url, { headers: { host }, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });

/** An app through Caddy: `<name>.localhost` on the public port, 200 with `expect` in the body. */
export function appProbe(publicPort: number, name: string, expect: string): Probe {
  return {
    label: `app ${name}`,
    ok: async () => {
      try {
        const res = await get(`http://127.0.0.1:${publicPort}/`, `${name}.localhost`);
        return res.status === 200 && (await res.text()).includes(expect);
      } catch {
        return false;
      }
    },
  };
}

/** A claimed tenant through Caddy: `<tenant>.<workload>.localhost`, 200 with every `expect` line in the body. */
export function tenantProbe(publicPort: number, workload: string, tenant: string, expect: string[]): Probe {
  return {
    label: `tenant ${tenant}.${workload}`,
    ok: async () => {
      try {
        const res = await get(`http://127.0.0.1:${publicPort}/`, `${tenant}.${workload}.localhost`);
        const body = await res.text();
        return res.status === 200 && expect.every((line) => body.includes(line));
      } catch {
        return false;
      }
    },
  };
}

/**
 * A pool back at min_size: Kiln lists at least min_size `ready` members of `workload` and the engine
 * runs each of those containers with health `healthy` (a member the store calls ready but whose
 * container died does not count).
 */
export function poolProbe(api: (path: string) => Promise<Response>, instanceId: string, workload: string): Probe {
  return {
    label: `pool ${workload}`,
    ok: async () => {
      try {
        const pools = (await (await api("/pools")).json()) as { pools: { workload: string; minSize: number; members: { status: string; containerId: string | null }[] }[] };
        const pool = pools.pools.find((p) => p.workload === workload);
        if (!pool) return false;
        const healthy = await healthyContainers(instanceId);
        const live = pool.members.filter((m) => m.status === "ready" && m.containerId !== null && healthy.has(m.containerId));
        return live.length >= pool.minSize;
      } catch {
        return false;
      }
    },
  };
}

/** Ids of this Kiln's running pool-member containers whose healthcheck says healthy. */
async function healthyContainers(instanceId: string): Promise<Set<string>> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`kiln.instance=${instanceId}`, "kiln.kind=pool-member"], status: ["running"], health: ["healthy"] }));
  const res = await fetch(`http://docker/v1.41/containers/json?filters=${filters}`, { unix: DOCKER_SOCKET, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) } as RequestInit);
  return new Set(((await res.json()) as { Id: string }[]).map((c) => c.Id));
}

/**
 * Probe everything every `everyMs` (all probes of a round in parallel) until all have held once or
 * the deadline passes; returns when each first held (epoch ms), or null for those that never did.
 */
export async function watchRecovery(probes: Probe[], opts: { deadlineMs: number; everyMs?: number }): Promise<Record<string, number | null>> {
  const seen: Record<string, number | null> = Object.fromEntries(probes.map((p) => [p.label, null]));
  const deadline = Date.now() + opts.deadlineMs;
  const rounds = Math.ceil(opts.deadlineMs / (opts.everyMs ?? 200)) + 1;
  for (let i = 0; i < rounds && Date.now() <= deadline; i++) {
    const pending = probes.filter((p) => seen[p.label] === null);
    if (pending.length === 0) break;
    await Promise.all(pending.map(async (p) => {
      if (await p.ok()) seen[p.label] ??= Date.now();
    }));
    await Bun.sleep(opts.everyMs ?? 200);
  }
  return seen;
}

/** The measured phases as lines: each time relative to `from` (s), sorted, with the ones missing. */
export function phaseLines(marks: Record<string, number | null>, from: number): string[] {
  return Object.entries(marks)
    .sort(([, a], [, b]) => (a ?? Infinity) - (b ?? Infinity))
    .map(([label, t]) => `  ${label.padEnd(28)} ${t === null ? "NOT BY THE DEADLINE" : `${t >= from ? "+" : "-"}${(Math.abs(t - from) / 1000).toFixed(2)} s`}`);
}

/**
 * When Kiln itself saw the engine go and come back (its `events` port, when this Kiln has one):
 * marks "kiln saw engine lost" and "kiln saw engine back", filled in as the events arrive.
 */
export function engineEventMarks(kiln: object): { marks: Record<string, number | null>; off(): void } {
  const marks: Record<string, number | null> = { "kiln saw engine lost": null, "kiln saw engine back": null };
  const events = (kiln as { events?: EngineEvents }).events;
  if (!events) return { marks: {}, off: () => {} };
  const off = events.subscribe((e) => {
    if (e.kind === "engine") marks[`kiln saw engine ${e.state}`] ??= Date.now();
  });
  return { marks, off };
}

/** For a failure message: each deployment's status, each pool member as Kiln lists it beside the engine's word on its container, each tenant. */
export async function recoveryDiagnosis(api: (path: string) => Promise<Response>): Promise<string> {
  try {
    const { deployments } = (await (await api("/deployments")).json()) as { deployments: { name: string; status: string; failureReason: string | null }[] };
    const lines = deployments.map((d) => `  app ${d.name} ${d.status}${d.failureReason ? `: ${d.failureReason.split("\n").slice(0, 3).join(" | ")}` : ""}`);
    const pools = (await (await api("/pools")).json()) as { pools: { workload: string; members: { id: string; status: string; tenantId: string | null; containerId: string | null }[] }[] };
    for (const p of pools.pools) {
      for (const m of p.members) {
        let engine = "no container";
        if (m.containerId) {
          const res = await fetch(`http://docker/v1.41/containers/${m.containerId}/json`, { unix: DOCKER_SOCKET, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) } as RequestInit);
          const info = res.ok ? ((await res.json()) as { State: { Status: string; ExitCode: number; Health?: { Status: string } } }) : null;
          engine = info ? `${info.State.Status} (exit ${info.State.ExitCode}${info.State.Health ? `, ${info.State.Health.Status}` : ""})` : `gone (${res.status})`;
        }
        lines.push(`  ${p.workload} ${m.id} ${m.status}${m.tenantId ? ` for ${m.tenantId}` : ""}: engine says ${engine}`);
      }
    }
    const tenants = (await (await api("/tenants")).json()) as { tenants: { tenantId: string; workload: string; status: string; containerId: string | null }[] };
    for (const t of tenants.tenants) lines.push(`  tenant ${t.tenantId}.${t.workload} ${t.status}, container ${t.containerId ?? "none"}`);
    return lines.join("\n");
  } catch (err) {
    return `  (no diagnosis: ${String(err)})`;
  }
}

/** For a failure message: the last `n` lines of a tenant's log stream (claims, replacements), over the API's WebSocket. */
export function tenantLogTail(apiUrl: string, token: string, workload: string, tenant: string, n = 8): Promise<string> {
  const lines: string[] = [];
  return new Promise((resolve) => {
    const ws = new WebSocket(`${apiUrl.replace("http", "ws")}/api/v1/tenants/${tenant}/logs?workload=${workload}&since=1&token=${token}`);
    const done = () => {
      ws.close();
      resolve(lines.slice(-n).map((l) => `    ${l}`).join("\n"));
    };
    const timer = setTimeout(done, 1500);
    ws.onmessage = (ev) => void lines.push((JSON.parse(String(ev.data)) as { text: string }).text);
    ws.onerror = () => {
      clearTimeout(timer);
      done();
    };
  });
}

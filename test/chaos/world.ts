/**
 * The chaos suite's world: one Kiln run as its own process on a temp data dir, an S3 server behind
 * a fault proxy, a pool workload synced to it, a few tarball apps, and a model of what the test last
 * wrote into each tenant's state. Kiln can be killed and started again on the same data dir; after
 * each round `settle` waits for it to be back and repaired, and `check` counts every invariant's
 * violations.
 */
import type { Subprocess } from "bun";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kilnProcess, type KilnProcess } from "../helpers/kiln-process.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";
import { workloadYaml, writeWorkload } from "../helpers/workloads.ts";
import { checkHoldings, diffFiles, localFiles, sha256, type Invariant } from "./invariants.ts";
import { docker, observe, readStore } from "./observe.ts";
import type { Rng } from "./prng.ts";
import { startS3Faults, type S3Faults } from "./s3-faults.ts";

export const WORKLOAD = "chaos";
export const BUCKET = "kiln-chaos";
const MIN = 2;
const MAX = 6;

/** What the test believes of a tenant: its files as last written, and whether it holds a container. */
export interface TenantModel {
  id: string;
  /** name → content (hex text, so the tenant's echo server shows it verbatim). */
  files: Record<string, string>;
  /** "unknown" while an operation cut short by a fault has an outcome only the store can tell. */
  held: "claimed" | "released" | "unknown";
}

export interface World {
  k: KilnProcess;
  s3: TestS3;
  faults: S3Faults;
  tenants: TenantModel[];
  apps: string[];
  proc: Subprocess | null;
  log: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** Wait until Kiln is back and repaired (health, pools at min_size, builds final): null, or what was still pending at the deadline. */
  settle(deadlineMs?: number): Promise<string | null>;
  /** Resolve tenants whose last operation was cut short, from the store. */
  resolveUnknown(): void;
  /** Write 1–3 new files (or overwrite, or delete one) into a claimed tenant's state, on the host. */
  write(t: TenantModel, rng: Rng): void;
  check(): Promise<Record<Invariant, string[]>>;
  api(path: string, body?: unknown): Promise<Response>;
  stop(): Promise<void>;
}

function syncBlock(): string {
  return [
    "sync:",
    "  sink:",
    "    type: s3",
    `    bucket: ${BUCKET}`,
    "    endpoint: ${CHAOS_S3_ENDPOINT}",
    "    region: us-east-1",
    "    access_key_id: ${CHAOS_S3_KEY}",
    "    secret_access_key: ${CHAOS_S3_SECRET}",
    "    prefix: tenants/${tenantId}/",
    "  policy:",
    "    on_claim: true",
    "    on_release: true",
    "    manual: true",
  ].join("\n");
}

export async function startWorld(opts: { tenants: number; apps: string[]; log: string }): Promise<World> {
  const s3 = await startS3();
  await s3.bucket(BUCKET);
  const faults = await startS3Faults(s3.endpoint);
  const k = kilnProcess("kiln-chaos");
  Object.assign(k.env, { CHAOS_S3_ENDPOINT: faults.endpoint, CHAOS_S3_KEY: s3.accessKeyId, CHAOS_S3_SECRET: s3.secretAccessKey });
  writeWorkload(k.env.KILN_WORKLOADS_DIR!, WORKLOAD, workloadYaml(WORKLOAD, { min: MIN, max: MAX, extra: syncBlock(), healthInterval: "500ms" }));
  writeFileSync(opts.log, "");
  const stateDir = (t: string) => join(k.dataDir, "tenants", WORKLOAD, t, "state");
  const api = (path: string, body?: unknown) =>
    (body === undefined ? k.api(path) : k.api(path, { body })).then((r) => r, (err) => new Response(String(err), { status: 599 }));
  const caddyAdmin = k.env.KILN_CADDY_ADMIN!;
  let counter = 0;

  const w: World = {
    k,
    s3,
    faults,
    tenants: Array.from({ length: opts.tenants }, (_, i) => ({ id: `t${i}`, files: {}, held: "released" as const })),
    apps: opts.apps,
    proc: null,
    log: opts.log,
    api,
    async start() {
      w.proc = await k.serve({ output: opts.log, timeoutMs: 60_000 });
    },
    async kill() {
      w.proc?.kill("SIGKILL");
      await w.proc?.exited;
      w.proc = null;
    },
    async settle(deadlineMs = 60_000) {
      const deadline = Date.now() + deadlineMs;
      let pending = "";
      while (Date.now() < deadline) {
        const health = await fetch(`http://127.0.0.1:${k.env.KILN_API_PORT}/api/v1/health`).then(async (r) => (r.ok ? null : await r.text()), (e) => String(e));
        const pool = health === null ? (((await (await api("/pools")).json().catch(() => null)) as any)?.pools?.find((p: any) => p.workload === WORKLOAD) ?? null) : null;
        const c = pool?.counts;
        const poolSettled = c && c.warming === 0 && c.releasing === 0 && c.ready >= Math.min(MIN, MAX - c.claimed);
        const unfinished = readStore(k.dataDir).builds.filter((b) => !["succeeded", "failed", "cancelled"].includes(b.status));
        if (poolSettled && unfinished.length === 0) return null;
        pending = health !== null ? `health: ${health.slice(0, 200)}` : !poolSettled ? `pool: ${JSON.stringify(c ?? null)}` : `builds: ${unfinished.map((b) => b.status).join(", ")}`;
        await Bun.sleep(200);
      }
      return pending;
    },
    resolveUnknown() {
      const rows = readStore(k.dataDir).tenants;
      for (const t of w.tenants) {
        if (t.held !== "unknown") continue;
        const row = rows.find((r) => r.tenant_id === t.id && r.workload_id === WORKLOAD);
        t.held = row && ["claimed", "releasing", "release_failed"].includes(row.status) ? "claimed" : "released";
      }
    },
    write(t, rng) {
      const dir = stateDir(t.id);
      mkdirSync(dir, { recursive: true });
      const names = Object.keys(t.files);
      if (names.length > 2 && rng.next() < 0.25) {
        const gone = rng.pick(names);
        rmSync(join(dir, gone));
        delete t.files[gone];
      }
      for (let i = rng.int(1, 3); i > 0; i--) {
        const name = `f${rng.int(0, 5)}`;
        const content = `${t.id}-${++counter}-${sha256(String(rng.next())).slice(0, rng.int(8, 64))}`;
        writeFileSync(join(dir, name), content);
        t.files[name] = content;
      }
    },
    async check() {
      const o = await observe(k.dataDir, caddyAdmin);
      const out = { ...checkHoldings(o, k.dataDir), "kiln settles": [], "tenants answer": [], "tenant files": [], "apps answer": [] } as Record<Invariant, string[]>;
      const rows = o.store.tenants;
      for (const t of w.tenants) {
        const want = Object.fromEntries(Object.entries(t.files).map(([n, c]) => [n, sha256(c)]));
        const row = rows.find((r) => r.tenant_id === t.id && r.workload_id === WORKLOAD);
        const holds = row !== undefined && ["claimed", "releasing", "release_failed"].includes(row.status);
        if (t.held === "claimed") {
          if (!holds) out["tenants answer"].push(`tenant ${t.id} was claimed but its row is ${row?.status ?? "missing"}`);
          const res = await fetch(`http://127.0.0.1:${k.publicPort}/`, { headers: { host: `${t.id}.${WORKLOAD}.localhost` }, signal: AbortSignal.timeout(5000) }).catch((e) => e as Error);
          const body = res instanceof Response ? await res.text() : "";
          if (!(res instanceof Response) || res.status !== 200) out["tenants answer"].push(`tenant ${t.id}: ${res instanceof Response ? `${res.status} ${body.slice(0, 80)}` : res.message}`);
          else for (const [n, c] of Object.entries(t.files)) if (!body.includes(`${n}=${c}\n`)) out["tenant files"].push(`tenant ${t.id}: its container does not show ${n} as last written`);
          out["tenant files"].push(...diffFiles(`tenant ${t.id} (local)`, want, localFiles(stateDir(t.id))));
        } else if (t.held === "released") {
          if (holds) out["tenants answer"].push(`tenant ${t.id} was released but its row is ${row!.status}`);
          const got: Record<string, string> = {};
          const prefix = `tenants/${t.id}/`;
          for (const key of await s3.keys(BUCKET, prefix)) got[key.slice(prefix.length)] = sha256(new Uint8Array(await (await fetch(`${s3.endpoint}/${BUCKET}/${key}`)).arrayBuffer()));
          out["tenant files"].push(...diffFiles(`tenant ${t.id} (S3)`, want, got));
        }
      }
      for (const d of o.store.deployments.filter((d) => d.status === "running")) {
        const res = await k.viaCaddy(`${d.name}.localhost`).then((r) => (r.text(), r.status), (e) => String(e));
        if (res !== 200) out["apps answer"].push(`app ${d.name} is running but answers ${res}`);
      }
      return out;
    },
    async stop() {
      if (!w.proc) await w.start().catch(() => {});
      for (const t of w.tenants) await api(`/tenants/${t.id}/release`, { workload: WORKLOAD, sync: false });
      for (const a of w.apps) await k.api(`/deployments/${a}`, { method: "DELETE" }).catch(() => {});
      w.proc?.kill("SIGTERM");
      await w.proc?.exited;
      const instance = readFileSync(join(k.dataDir, "instance-id"), "utf8").trim();
      const left = (await (await docker(`/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`kiln.instance=${instance}`] }))}`)).json()) as any[];
      for (const c of left) await docker(`/containers/${c.Id}?force=1`, { method: "DELETE" });
      k.cleanup();
      await faults.stop();
      await s3.stop();
    },
  };
  await w.start();
  return w;
}

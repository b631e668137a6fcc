/**
 * What a Kiln really holds, read from the outside: the labelled containers and images in Docker,
 * the routes in Caddy's config, the mounts under its data dir, the slot directories, and its store
 * (SQLite, opened read-only beside the running Kiln, as the tenant resolver does).
 */
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export async function docker(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://docker/v1.41${path}`, { ...init, unix: "/var/run/docker.sock" } as RequestInit);
}

const labelFilter = (labels: string[]) => encodeURIComponent(JSON.stringify({ label: labels }));

export interface Observed {
  containers: { id: string; labels: Record<string, string>; state: string }[];
  images: { id: string; labels: Record<string, string> }[];
  /** The @id of every route in Caddy's config (null when the admin API did not answer). */
  routeIds: string[] | null;
  /** Mount points at or under the data dir. */
  mounts: string[];
  /** Entries of slots/ and slots-staging/. */
  slotDirs: string[];
  stagingDirs: string[];
  store: StoreRows;
}

export interface StoreRows {
  /** `instances`: the JSON list of {containerId, upstream}, one per replica. */
  deployments: { id: string; name: string; status: string; instances: string; current_build_id: string | null }[];
  builds: { id: string; deployment_id: string; status: string; created_at: number }[];
  members: { id: string; workload_id: string; status: string; container_id: string | null; tenant_id: string | null }[];
  tenants: { tenant_id: string; workload_id: string; member_id: string | null; status: string; last_sync: string | null }[];
}

export function readStore(dataDir: string): StoreRows {
  const db = new Database(join(dataDir, "kiln.db"), { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 2000");
    return {
      deployments: db.query("SELECT id, name, status, instances, current_build_id FROM deployments").all() as StoreRows["deployments"],
      builds: db.query("SELECT id, deployment_id, status, created_at FROM builds").all() as StoreRows["builds"],
      members: db.query("SELECT id, workload_id, status, container_id, tenant_id FROM pool_members").all() as StoreRows["members"],
      tenants: db.query("SELECT tenant_id, workload_id, member_id, status, last_sync FROM tenants").all() as StoreRows["tenants"],
    };
  } finally {
    db.close();
  }
}

/** Every @id in a Caddy config, at any depth. */
export function routeIdsIn(config: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const id = (v as Record<string, unknown>)["@id"];
      if (typeof id === "string") out.push(id);
      Object.values(v).forEach(walk);
    }
  };
  walk(config);
  return out;
}

/** Mount points (field 5 of /proc/self/mountinfo, octal escapes decoded) at or under `dir`. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  return mountinfo
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

export async function observe(dataDir: string, caddyAdmin: string): Promise<Observed> {
  const instance = readFileSync(join(dataDir, "instance-id"), "utf8").trim();
  const mine = labelFilter([`kiln.instance=${instance}`]);
  const containers = ((await (await docker(`/containers/json?all=1&filters=${mine}`)).json()) as any[]).map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State }));
  const images = ((await (await docker(`/images/json?all=1&filters=${mine}`)).json()) as any[]).map((i) => ({ id: i.Id, labels: i.Labels ?? {} }));
  const config = await fetch(`${caddyAdmin}/config/`, { signal: AbortSignal.timeout(3000) }).then((r) => (r.ok ? r.json() : null), () => null);
  const ls = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  return {
    containers,
    images,
    routeIds: config === null ? null : routeIdsIn(config),
    mounts: mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), dataDir),
    slotDirs: ls(join(dataDir, "slots")),
    stagingDirs: ls(join(dataDir, "slots-staging")),
    store: readStore(dataDir),
  };
}

/**
 * The chaos suite's invariants, checked after every round on a Kiln that is back and settled. Each
 * check returns one line per violation (empty when it holds), so a round counts and describes all
 * of them rather than stopping at the first.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Observed } from "./observe.ts";

export const INVARIANTS = [
  "kiln settles",
  "orphan containers",
  "orphan images",
  "orphan routes",
  "orphan mounts",
  "orphan dirs",
  "members/tenants agree",
  "tenants answer",
  "tenant files",
  "apps answer",
  "builds final",
] as const;
export type Invariant = (typeof INVARIANTS)[number];

const LIVE_MEMBER = new Set(["warming", "ready", "claimed", "releasing", "draining"]);
const HOLDING_MEMBER = new Set(["claimed", "releasing"]);
const HOLDING_TENANT = new Set(["claimed", "releasing", "release_failed"]);
const FINAL_BUILD = new Set(["succeeded", "failed", "cancelled"]);

/** The checks that need only what Kiln holds (Docker, Caddy, mounts, dirs, store). */
export function checkHoldings(o: Observed, dataDir: string): Partial<Record<Invariant, string[]>> {
  const s = o.store;
  const deploymentContainers = new Set(s.deployments.flatMap((d) => (JSON.parse(d.instances) as { containerId: string }[]).map((i) => i.containerId)));
  const liveMembers = new Map(s.members.filter((m) => LIVE_MEMBER.has(m.status)).map((m) => [m.id, m]));
  const memberContainers = new Set([...liveMembers.values()].map((m) => m.container_id).filter(Boolean));
  const buildIds = new Set(s.builds.map((b) => b.id));
  const running = new Set(s.deployments.filter((d) => d.status === "running").map((d) => d.id));

  const containers = o.containers
    .filter((c) => !(c.labels["kiln.kind"] === "app" ? deploymentContainers.has(c.id) : c.labels["kiln.kind"] === "pool-member" && memberContainers.has(c.id)))
    .map((c) => `container ${c.id.slice(0, 12)} (${c.labels["kiln.kind"]} ${c.labels["kiln.deployment"] ?? c.labels["kiln.member"] ?? "?"}, ${c.state}) belongs to no deployment or live member`);
  const images = o.images
    .filter((i) => i.labels["kiln.build"] !== undefined && !buildIds.has(i.labels["kiln.build"]!))
    .map((i) => `image ${i.id.slice(7, 19)} of build ${i.labels["kiln.build"]} that no build row knows`);
  const routes =
    o.routeIds === null
      ? ["Caddy's admin API did not answer GET /config/"]
      : o.routeIds.filter((r) => r.startsWith("kiln-app-") && !running.has(r.slice("kiln-app-".length))).map((r) => `route ${r} for no running deployment`);

  const slots = join(dataDir, "slots");
  const staging = join(dataDir, "slots-staging");
  const mounts = o.mounts
    .filter((p) => p !== slots && p !== staging)
    .filter((p) => {
      const rel = p.startsWith(`${slots}/`) ? p.slice(slots.length + 1) : p.startsWith(`${staging}/`) ? p.slice(staging.length + 1).replace(/-secrets(\/|$)/, "$1") : null;
      const member = rel === null ? undefined : liveMembers.get(rel.split("/")[0]!);
      return !(member && HOLDING_MEMBER.has(member.status));
    })
    .map((p) => `mount ${p} for no member holding a tenant`);
  const dirs = [
    ...o.slotDirs.filter((d) => !liveMembers.has(d)).map((d) => `slot dir slots/${d} without a live member`),
    ...o.stagingDirs.filter((d) => !liveMembers.has(d.replace(/-secrets$/, ""))).map((d) => `staging dir slots-staging/${d} without a live member`),
  ];

  const agree: string[] = [];
  for (const m of liveMembers.values()) {
    if (!HOLDING_MEMBER.has(m.status)) continue;
    const t = s.tenants.find((x) => x.tenant_id === m.tenant_id && x.workload_id === m.workload_id);
    if (!t || t.member_id !== m.id || !HOLDING_TENANT.has(t.status)) agree.push(`member ${m.id} is ${m.status} for tenant ${m.tenant_id}, whose row is ${t ? `${t.status} → ${t.member_id}` : "missing"}`);
  }
  for (const t of s.tenants) {
    if (!HOLDING_TENANT.has(t.status)) continue;
    const m = t.member_id ? liveMembers.get(t.member_id) : undefined;
    if (!m || !HOLDING_MEMBER.has(m.status) || m.tenant_id !== t.tenant_id) agree.push(`tenant ${t.tenant_id} is ${t.status} with member ${t.member_id}, which is ${m ? `${m.status} for ${m.tenant_id}` : "gone"}`);
  }
  const builds = s.builds.filter((b) => !FINAL_BUILD.has(b.status)).map((b) => `build ${b.id} of ${b.deployment_id} is still ${b.status}`);
  return { "orphan containers": containers, "orphan images": images, "orphan routes": routes, "orphan mounts": mounts, "orphan dirs": dirs, "members/tenants agree": agree, "builds final": builds };
}

/** name → sha256 of every regular file directly in `dir` (the chaos tenants write flat trees). */
export function localFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isFile()) out[name] = sha256(readFileSync(p));
  }
  return out;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The differences between what was last written and what is there, one line each. */
export function diffFiles(where: string, want: Record<string, string>, got: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [name, sum] of Object.entries(want)) {
    if (!(name in got)) out.push(`${where}: ${name} is missing`);
    else if (got[name] !== sum) out.push(`${where}: ${name} differs from what was last written`);
  }
  for (const name of Object.keys(got)) if (!(name in want)) out.push(`${where}: ${name} was not written (or was deleted)`);
  return out;
}

/** Domain objects → API views. Secrets never pass through here: env shows keys only. */
import type { Build, Deployment } from "../core/deployment.ts";
import { publicOrigin, type PublicAddress } from "../core/urls.ts";
import type { Release } from "../core/release.ts";
import type { AppSettings } from "../core/settings.ts";
import type { BuildViewT, DeploymentViewT, ReleaseViewT, SettingsViewT } from "./schemas.ts";

export type UrlShape = PublicAddress;

const iso = (ms: number) => new Date(ms).toISOString();

export function appUrls(u: UrlShape, d: Pick<Deployment, "id" | "name">): { url: string; pathUrl: string } {
  return { url: `${publicOrigin(u, `${d.name}.${u.publicHost}`)}/`, pathUrl: `${publicOrigin(u, u.publicHost)}/d/${d.id}/` };
}

export function buildView(b: Build): BuildViewT {
  return {
    id: b.id,
    number: b.number,
    status: b.status,
    builder: b.builder,
    plan: b.plan,
    image: b.image,
    commit: b.commit,
    steps: b.steps.map((s) => ({ name: s.name, startedAt: iso(s.startedAt), durationMs: s.durationMs, ok: s.ok })),
    durationMs: b.finishedAt ? b.finishedAt - b.createdAt : null,
    error: b.error,
    createdAt: iso(b.createdAt),
    finishedAt: b.finishedAt ? iso(b.finishedAt) : null,
  };
}

const sec = (ms: number) => ms / 1000;

/** Settings as users write them: seconds, MB. */
export function settingsView(s: AppSettings): SettingsViewT {
  const h = s.healthcheck;
  return {
    port: s.port,
    healthcheck: h ? { path: h.path, status: h.expectStatus, timeout: sec(h.timeoutMs), interval: sec(h.intervalMs), startPeriod: sec(h.startPeriodMs) } : null,
    startCommand: s.startCommand,
    buildCommand: s.buildCommand,
    rootDir: s.rootDir,
    memory: s.memoryMb,
    cpus: s.cpus,
    replicas: s.replicas,
    restartPolicy: s.restartPolicy,
    volumes: s.volumes.map((v) => ({ ...v })),
    drainTimeout: sec(s.drainTimeoutMs),
    previews: { enabled: s.previews.enabled, ttl: s.previews.ttlHours, max: s.previews.max, forks: s.previews.forks, secrets: s.previews.secrets },
  };
}

export function releaseView(r: Release, currentId: string | null): ReleaseViewT {
  return {
    id: r.id,
    number: r.number,
    current: r.id === currentId,
    buildId: r.buildId,
    image: r.image,
    envKeys: r.envKeys,
    settings: settingsView(r.settings),
    trigger: r.trigger,
    via: r.via,
    rollbackOf: r.rollbackOf,
    description: r.description,
    createdAt: iso(r.createdAt),
  };
}

export function deploymentView(u: UrlShape, d: Deployment, current: Build | null, release: Release | null = null): DeploymentViewT {
  return {
    id: d.id,
    name: d.name,
    status: d.status,
    ...appUrls(u, d),
    source: d.source.kind === "git" ? { kind: "git", url: redactUrl(d.source.url), ref: d.source.ref ?? null } : { kind: "tarball" },
    envKeys: d.envKeys,
    networks: d.networks,
    failureReason: d.failureReason,
    currentBuild: current ? buildView(current) : null,
    currentRelease: release ? { id: release.id, number: release.number } : null,
    settings: settingsView(d.settings),
    instances: d.instances.length,
    preview: d.preview ? { parentId: d.preview.parentId, number: d.preview.number, ref: d.preview.ref, commit: d.preview.commit, fork: d.preview.fork } : null,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

/** A URL with credentials in it (https://user:pass@host) is shown without them. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, "$1");
}

/**
 * Row ↔ domain mapping for the SQL stores. Column names and encodings live here and nowhere else;
 * `source`, `env_keys`, `networks`, `steps` and log chunk `lines` are JSON kept in TEXT columns.
 */
import type {
  AppInstance,
  Build,
  BuilderName,
  BuildStatus,
  Deployment,
  DeploymentStatus,
  SourceSpec,
  StepTiming,
} from "../../core/deployment.ts";
import type { LogLine, LogStream } from "../../core/logs.ts";
import type { PreviewInfo } from "../../core/hooks.ts";
import type { Release, ReleaseTrigger, ReleaseVia } from "../../core/release.ts";
import { settingsFromStored } from "../../core/settings.ts";

export type SqlValue = string | number | null;

/** For each domain field: its column and how its value is written. */
type ColumnMap<T> = { [K in keyof T]-?: { column: string; encode: (value: T[K]) => SqlValue } };

const asIs = <V extends SqlValue>(value: V): SqlValue => value;
const asJson = (value: unknown): SqlValue => JSON.stringify(value);

export interface DeploymentRow {
  id: string;
  name: string;
  source: string;
  env_keys: string;
  networks: string;
  status: string;
  current_build_id: string | null;
  failure_reason: string | null;
  instances: string;
  settings: string;
  current_release_id: string | null;
  preview: string | null;
  created_at: number;
  updated_at: number;
}

export const deploymentColumns: ColumnMap<Deployment> = {
  id: { column: "id", encode: asIs },
  name: { column: "name", encode: asIs },
  source: { column: "source", encode: asJson },
  envKeys: { column: "env_keys", encode: asJson },
  networks: { column: "networks", encode: asJson },
  status: { column: "status", encode: asIs },
  currentBuildId: { column: "current_build_id", encode: asIs },
  failureReason: { column: "failure_reason", encode: asIs },
  instances: { column: "instances", encode: asJson },
  settings: { column: "settings", encode: asJson },
  currentReleaseId: { column: "current_release_id", encode: asIs },
  preview: { column: "preview", encode: (v) => (v ? JSON.stringify(v) : null) },
  createdAt: { column: "created_at", encode: asIs },
  updatedAt: { column: "updated_at", encode: asIs },
};

export function rowToDeployment(r: DeploymentRow): Deployment {
  return {
    id: r.id,
    name: r.name,
    source: JSON.parse(r.source) as SourceSpec,
    envKeys: JSON.parse(r.env_keys) as string[],
    networks: JSON.parse(r.networks) as string[],
    status: r.status as DeploymentStatus,
    currentBuildId: r.current_build_id,
    failureReason: r.failure_reason,
    instances: JSON.parse(r.instances) as AppInstance[],
    settings: settingsFromStored(JSON.parse(r.settings)),
    currentReleaseId: r.current_release_id,
    preview: r.preview ? (JSON.parse(r.preview) as PreviewInfo) : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface BuildRow {
  id: string;
  deployment_id: string;
  number: number;
  status: string;
  builder: string | null;
  image: string | null;
  port: number | null;
  plan: string | null;
  commit_sha: string | null;
  steps: string;
  error: string | null;
  created_at: number;
  finished_at: number | null;
}

export const buildColumns: ColumnMap<Build> = {
  id: { column: "id", encode: asIs },
  deploymentId: { column: "deployment_id", encode: asIs },
  number: { column: "number", encode: asIs },
  status: { column: "status", encode: asIs },
  builder: { column: "builder", encode: asIs },
  image: { column: "image", encode: asIs },
  port: { column: "port", encode: asIs },
  plan: { column: "plan", encode: asIs },
  commit: { column: "commit_sha", encode: asIs },
  steps: { column: "steps", encode: asJson },
  error: { column: "error", encode: asIs },
  createdAt: { column: "created_at", encode: asIs },
  finishedAt: { column: "finished_at", encode: asIs },
};

export function rowToBuild(r: BuildRow): Build {
  return {
    id: r.id,
    deploymentId: r.deployment_id,
    number: r.number,
    status: r.status as BuildStatus,
    builder: r.builder as BuilderName | null,
    image: r.image,
    port: r.port,
    plan: r.plan,
    commit: r.commit_sha,
    steps: JSON.parse(r.steps) as StepTiming[],
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

export interface ReleaseRow {
  id: string;
  deployment_id: string;
  number: number;
  build_id: string;
  image: string;
  build_port: number | null;
  env_keys: string;
  settings: string;
  trigger_kind: string;
  via: string;
  rollback_of: number | null;
  description: string;
  created_at: number;
}

export const releaseColumns: ColumnMap<Release> = {
  id: { column: "id", encode: asIs },
  deploymentId: { column: "deployment_id", encode: asIs },
  number: { column: "number", encode: asIs },
  buildId: { column: "build_id", encode: asIs },
  image: { column: "image", encode: asIs },
  buildPort: { column: "build_port", encode: asIs },
  envKeys: { column: "env_keys", encode: asJson },
  settings: { column: "settings", encode: asJson },
  trigger: { column: "trigger_kind", encode: asIs },
  via: { column: "via", encode: asIs },
  rollbackOf: { column: "rollback_of", encode: asIs },
  description: { column: "description", encode: asIs },
  createdAt: { column: "created_at", encode: asIs },
};

export function rowToRelease(r: ReleaseRow): Release {
  return {
    id: r.id,
    deploymentId: r.deployment_id,
    number: r.number,
    buildId: r.build_id,
    image: r.image,
    buildPort: r.build_port,
    envKeys: JSON.parse(r.env_keys) as string[],
    settings: settingsFromStored(JSON.parse(r.settings)),
    trigger: r.trigger_kind as ReleaseTrigger,
    via: r.via as ReleaseVia,
    rollbackOf: r.rollback_of,
    description: r.description,
    createdAt: r.created_at,
  };
}

/** Every column of a whole record, in the map's order: for INSERT. */
export function recordColumns<T>(map: ColumnMap<T>, record: T): Array<[column: string, value: SqlValue]> {
  return (Object.keys(map) as Array<keyof T>).map((field) => {
    const spec = map[field];
    return [spec.column, spec.encode(record[field])];
  });
}

/** The columns a patch sets: fields present and not undefined, minus the ones that never change. */
export function patchColumns<T>(
  map: ColumnMap<T>,
  patch: Partial<NoInfer<T>>,
  immutable: readonly NoInfer<keyof T>[],
): Array<[column: string, value: SqlValue]> {
  const out: Array<[string, SqlValue]> = [];
  for (const field of Object.keys(map) as Array<keyof T>) {
    if (immutable.includes(field)) continue;
    const value = patch[field];
    if (value === undefined) continue;
    const spec = map[field];
    out.push([spec.column, spec.encode(value as T[keyof T])]);
  }
  return out;
}

/** A log chunk's `lines` column: a JSON array of [seq, ts, stream, text]. */
type EncodedLine = [seq: number, ts: number, stream: LogStream, text: string];

export function encodeLines(lines: readonly LogLine[]): string {
  return JSON.stringify(lines.map((l): EncodedLine => [l.seq, l.ts, l.stream, l.text]));
}

export function decodeLines(json: string): LogLine[] {
  return (JSON.parse(json) as EncodedLine[]).map(([seq, ts, stream, text]) => ({ seq, ts, stream, text }));
}

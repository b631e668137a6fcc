/**
 * Row ↔ domain mapping for the SQL stores. Column names and encodings live here and nowhere else;
 * `source`, `env_keys`, `networks`, `steps` and log chunk `lines` are JSON kept in TEXT columns.
 */
import type {
  Build,
  BuilderName,
  BuildStatus,
  Deployment,
  DeploymentStatus,
  SourceSpec,
  StepTiming,
} from "../../core/deployment.ts";
import type { LogLine, LogStream } from "../../core/logs.ts";

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
  container_id: string | null;
  upstream: string | null;
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
  containerId: { column: "container_id", encode: asIs },
  upstream: { column: "upstream", encode: asIs },
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
    containerId: r.container_id,
    upstream: r.upstream,
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
    commit: r.commit_sha,
    steps: JSON.parse(r.steps) as StepTiming[],
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
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

/**
 * An app's settings: how Kiln builds, runs, checks and scales it. One shape, validated here (pure);
 * the API's schema and the CLI take what `parseSettingsPatch` accepts. Every change becomes a new
 * release; a change of `buildCommand` or `rootDir` needs a new build (`needsRebuild`), every other
 * change runs the current image again with the zero-downtime swap.
 *
 *   const next = applySettingsPatch(d.settings, parseSettingsPatch(body));  // throws bad_request
 */
import { badRequest } from "./errors.ts";

export interface HealthCheck {
  /** Path asked with GET, e.g. /healthz. */
  path: string;
  /** The status that means healthy; null: any 2xx or 3xx. */
  expectStatus: number | null;
  /** One probe's timeout. */
  timeoutMs: number;
  /** Pause between probes (at start, and Caddy's active check while serving). */
  intervalMs: number;
  /** How long a new container may take to pass its first check before the swap gives up. */
  startPeriodMs: number;
}

export interface Volume {
  /** The volume's name, unique within the app (Docker's volume is kiln-<deployment>-<name>). */
  name: string;
  /** Absolute path in the container, e.g. /data. */
  path: string;
}

/** Previews of pull requests (and ones made through the API): a deployment each, at its own URL. */
export interface PreviewSettings {
  enabled: boolean;
  /** A preview older than this is removed. */
  ttlHours: number;
  /** At most this many at once; the oldest goes first. */
  max: number;
  /** Pull requests from forks get a preview at all (never with secrets). */
  forks: boolean;
  /** Previews get the app's secret variables (never a fork's). */
  secrets: boolean;
}

/** What Kiln does when an app's container exits: always start it again, only after a non-zero exit, or never. */
export type RestartPolicyName = "always" | "on-failure" | "never";

export interface AppSettings {
  /** The port the app listens on; null: the builder's guess, else 3000 (PORT is set to it either way). */
  port: number | null;
  /** null: any HTTP answer at / within the start timeout counts as up. */
  healthcheck: HealthCheck | null;
  /** Run instead of the image's command, through /bin/sh -c. */
  startCommand: string | null;
  /** Run instead of the detected build step (needs a rebuild). */
  buildCommand: string | null;
  /** The folder of the repository or upload the app lives in, for monorepos (needs a rebuild). */
  rootDir: string | null;
  memoryMb: number | null;
  cpus: number | null;
  replicas: number;
  restartPolicy: RestartPolicyName;
  volumes: Volume[];
  /** How long old containers may finish requests in flight after a swap before they are stopped. */
  drainTimeoutMs: number;
  previews: PreviewSettings;
}

export const MAX_REPLICAS = 16;
export const MAX_VOLUMES = 8;

export const DEFAULT_SETTINGS: AppSettings = Object.freeze({
  port: null,
  healthcheck: null,
  startCommand: null,
  buildCommand: null,
  rootDir: null,
  memoryMb: null,
  cpus: null,
  replicas: 1,
  restartPolicy: "always",
  volumes: [],
  drainTimeoutMs: 30_000,
  previews: { enabled: false, ttlHours: 72, max: 5, forks: false, secrets: false },
}) as AppSettings;

export const HEALTHCHECK_DEFAULTS = { timeoutMs: 2_000, intervalMs: 1_000, startPeriodMs: 60_000 } as const;

/**
 * A patch as accepted from users: every field optional; null resets a field to its default.
 * `previews` is merged field by field into the current ones (`{previews: {forks: true}}` changes only that).
 */
export type SettingsPatch = { [K in Exclude<keyof AppSettings, "previews">]?: AppSettings[K] | null } & { previews?: Partial<PreviewSettings> | null };

const VOLUME_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const VOLUME_PATH = /^\/[A-Za-z0-9._\/-]{0,254}$/;
/** Paths a volume may not cover: the system's own, where mounting would break the container. */
const RESERVED_PATHS = ["/", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/etc", "/proc", "/sys", "/dev", "/tmp"];
const HEALTH_PATH = /^\/[\x21-\x7e]{0,511}$/;

const fail = (field: string, message: string, hint: string) => badRequest(`settings.${field}: ${message}`, hint);

/** Validates an untyped patch (from JSON) field by field; unknown fields are refused by name. */
export function parseSettingsPatch(input: unknown): SettingsPatch {
  if (!input || typeof input !== "object" || Array.isArray(input)) throw badRequest("settings must be a JSON object", "send e.g. {\"replicas\": 2}");
  const raw = input as Record<string, unknown>;
  const out: SettingsPatch = {};
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case "port":
        out.port = value === null ? null : int(key, value, 1, 65535, "a TCP port from 1 to 65535");
        break;
      case "healthcheck":
        out.healthcheck = value === null ? null : healthcheck(value);
        break;
      case "startCommand":
      case "buildCommand":
        out[key] = value === null ? null : command(key, value) || null; // "" and blanks reset
        break;
      case "rootDir":
        out.rootDir = value === null || value === "" || value === "." ? null : rootDir(value);
        break;
      case "memory":
      case "memoryMb":
        out.memoryMb = value === null ? null : memory(value);
        break;
      case "cpus":
        out.cpus = value === null ? null : num(key, value, 0.05, 64, "a number of CPUs from 0.05 to 64, e.g. 0.5");
        break;
      case "replicas":
        out.replicas = value === null ? null : int(key, value, 1, MAX_REPLICAS, `a whole number from 1 to ${MAX_REPLICAS}`);
        break;
      case "restartPolicy":
        if (value !== null && value !== "always" && value !== "on-failure" && value !== "never") {
          throw fail(key, `${JSON.stringify(value)} is not a restart policy`, "use always, on-failure or never");
        }
        out.restartPolicy = value as RestartPolicyName | null;
        break;
      case "volumes":
        out.volumes = value === null ? null : volumes(value);
        break;
      case "drainTimeout":
      case "drainTimeoutMs": {
        if (value === null) out.drainTimeoutMs = null;
        else out.drainTimeoutMs = key === "drainTimeout" ? seconds(key, value, 0, 600) : int(key, value, 0, 600_000, "milliseconds from 0 to 600000");
        break;
      }
      case "previews":
        out.previews = value === null ? null : previews(value);
        break;
      default:
        throw badRequest(
          `settings: unknown field ${JSON.stringify(key.slice(0, 40))}`,
          "known: port, healthcheck, startCommand, buildCommand, rootDir, memory, cpus, replicas, restartPolicy, volumes, drainTimeout, previews",
        );
    }
  }
  return out;
}

/** The settings after a patch; null fields go back to their defaults. */
export function applySettingsPatch(current: AppSettings, patch: SettingsPatch): AppSettings {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === "previews" && value !== null) next.previews = { ...current.previews, ...(value as Partial<PreviewSettings>) };
    else next[key] = value === null ? structuredClone(DEFAULT_SETTINGS[key as keyof AppSettings]) : value;
  }
  return next as unknown as AppSettings;
}

/** Settings read back from storage: missing fields (older rows) take their defaults. */
export function settingsFromStored(stored: unknown): AppSettings {
  const s = stored && typeof stored === "object" ? (stored as Partial<AppSettings>) : {};
  return { ...DEFAULT_SETTINGS, ...s, volumes: s.volumes ?? [], previews: { ...DEFAULT_SETTINGS.previews, ...(s.previews ?? {}) } };
}

/** Fields whose change needs a new build (the others run the current image again). */
export function needsRebuild(before: AppSettings, after: AppSettings): boolean {
  return before.buildCommand !== after.buildCommand || before.rootDir !== after.rootDir;
}

/** The names of the fields that differ, for release notes and logs. */
export function changedFields(before: AppSettings, after: AppSettings): string[] {
  return (Object.keys(after) as (keyof AppSettings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

function int(field: string, v: unknown, min: number, max: number, want: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw fail(field, `${JSON.stringify(v)} is out of range`, `use ${want}`);
  return v;
}

function num(field: string, v: unknown, min: number, max: number, want: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw fail(field, `${JSON.stringify(v)} is out of range`, `use ${want}`);
  return v;
}

/** Seconds (a number) → ms. */
function seconds(field: string, v: unknown, min: number, max: number): number {
  return Math.round(num(field, v, min, max, `seconds from ${min} to ${max}, e.g. 2 or 0.5`) * 1000);
}

function command(field: string, v: unknown): string {
  if (typeof v !== "string" || v.length > 4096 || /[\0\r\n]/.test(v)) {
    throw fail(field, "must be one line of shell, at most 4096 characters", "e.g. \"node server.js\" or \"npm run build:prod\"");
  }
  return v.trim();
}

function rootDir(v: unknown): string {
  const hint = "give a folder inside the repository, e.g. apps/web";
  if (typeof v !== "string" || v.length > 255) throw fail("rootDir", "must be a relative folder path", hint);
  const clean = v.replace(/^\.\/+/, "").replace(/\/+$/, "");
  const parts = clean.split("/");
  if (!clean || clean.startsWith("/") || parts.some((p) => p === "" || p === "." || p === ".." || !/^[A-Za-z0-9._@+-]+$/.test(p))) {
    throw fail("rootDir", `${JSON.stringify(v.slice(0, 60))} is not a plain relative folder`, hint);
  }
  return clean;
}

/** MB as a number, or a string like "512m", "1g", "256mb". */
function memory(v: unknown): number {
  const hint = "use megabytes (512) or a size like \"512m\" or \"1g\", from 16m to 64g";
  let mb: number | null = null;
  if (typeof v === "number" && Number.isInteger(v)) mb = v;
  if (typeof v === "string") {
    const m = /^(\d{1,6})\s*(m|mb|mi|mib|g|gb|gi|gib)?$/i.exec(v.trim());
    if (m) mb = Number(m[1]) * (m[2] && m[2][0]!.toLowerCase() === "g" ? 1024 : 1);
  }
  if (mb === null || mb < 16 || mb > 65536) throw fail("memory", `${JSON.stringify(v)} is not a memory size Kiln accepts`, hint);
  return mb;
}

/** The fields given, checked (merged into the current ones by applySettingsPatch). */
function previews(v: unknown): Partial<PreviewSettings> {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw fail("previews", "must be an object", "e.g. {\"enabled\": true, \"ttl\": 72, \"max\": 5}");
  const p = v as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!["enabled", "ttl", "ttlHours", "max", "forks", "secrets"].includes(k)) throw fail(`previews.${k.slice(0, 40)}`, "unknown field", "known: enabled, ttl (hours), max, forks, secrets");
  }
  const out: Partial<PreviewSettings> = {};
  for (const k of ["enabled", "forks", "secrets"] as const) {
    if (p[k] === undefined) continue;
    if (typeof p[k] !== "boolean") throw fail(`previews.${k}`, "must be true or false", "e.g. true");
    out[k] = p[k] as boolean;
  }
  const ttl = p.ttl ?? p.ttlHours;
  if (ttl !== undefined) out.ttlHours = num("previews.ttl", ttl, 0.05, 24 * 90, "hours from 0.05 to 2160, e.g. 72");
  if (p.max !== undefined) out.max = int("previews.max", p.max, 1, 50, "a whole number from 1 to 50");
  return out;
}

function healthcheck(v: unknown): HealthCheck {
  if (typeof v === "string") v = { path: v };
  if (!v || typeof v !== "object" || Array.isArray(v)) throw fail("healthcheck", "must be an object", "e.g. {\"path\": \"/healthz\"}");
  const h = v as Record<string, unknown>;
  for (const k of Object.keys(h)) {
    if (!["path", "status", "expectStatus", "timeout", "interval", "startPeriod"].includes(k)) {
      throw fail(`healthcheck.${k.slice(0, 40)}`, "unknown field", "known: path, status, timeout, interval, startPeriod (seconds)");
    }
  }
  if (typeof h.path !== "string" || !HEALTH_PATH.test(h.path)) {
    throw fail("healthcheck.path", "must be a path starting with / (no spaces)", "e.g. /healthz");
  }
  const status = h.status ?? h.expectStatus;
  return {
    path: h.path,
    expectStatus: status === undefined || status === null ? null : int("healthcheck.status", status, 100, 599, "an HTTP status, e.g. 200"),
    timeoutMs: h.timeout === undefined ? HEALTHCHECK_DEFAULTS.timeoutMs : seconds("healthcheck.timeout", h.timeout, 0.1, 60),
    intervalMs: h.interval === undefined ? HEALTHCHECK_DEFAULTS.intervalMs : seconds("healthcheck.interval", h.interval, 0.1, 300),
    startPeriodMs: h.startPeriod === undefined ? HEALTHCHECK_DEFAULTS.startPeriodMs : seconds("healthcheck.startPeriod", h.startPeriod, 1, 1800),
  };
}

function volumes(v: unknown): Volume[] {
  if (!Array.isArray(v) || v.length > MAX_VOLUMES) throw fail("volumes", `must be a list of at most ${MAX_VOLUMES}`, "e.g. [{\"name\": \"data\", \"path\": \"/data\"}]");
  const names = new Set<string>();
  const paths = new Set<string>();
  return v.map((item, i) => {
    const o = (item && typeof item === "object" ? item : {}) as Record<string, unknown>;
    const name = o.name;
    const path = typeof o.path === "string" ? o.path.replace(/\/{2,}/g, "/").replace(/\/+$/, "") || "/" : o.path;
    if (typeof name !== "string" || !VOLUME_NAME.test(name)) {
      throw fail(`volumes[${i}].name`, "must be 1–40 lowercase letters, digits, '-' or '_'", "e.g. data");
    }
    if (typeof path !== "string" || !VOLUME_PATH.test(path) || path.split("/").some((p) => p === "." || p === "..")) {
      throw fail(`volumes[${i}].path`, "must be an absolute path in the container", "e.g. /data");
    }
    if (RESERVED_PATHS.includes(path)) throw fail(`volumes[${i}].path`, `${path} is the system's own`, "mount it somewhere like /data or /app/storage");
    if (names.has(name)) throw fail(`volumes[${i}].name`, `${name} is listed twice`, "give each volume its own name");
    if ([...paths].some((p) => p === path || p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) {
      throw fail(`volumes[${i}].path`, `${path} overlaps another volume`, "mount volumes at separate paths");
    }
    names.add(name);
    paths.add(path);
    return { name, path };
  });
}

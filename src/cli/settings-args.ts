/**
 * `kiln settings set <app> key=value…` parsed to PATCH …/settings' body, and settings shown as
 * lines (pure). Numbers become numbers; an empty value or `null` resets a field to Kiln's default;
 * volumes are `name:/path[,name:/path]`; healthcheck.* keys are merged into the current check;
 * previews.* keys go as one `previews` object (the server merges it field by field).
 *
 *   parseSettingsArgs(["replicas=2", "healthcheck.path=/healthz", "memory=512m"])
 *     // {patch: {replicas: 2, memory: "512m"}, healthcheck: {path: "/healthz"}}
 */
import type { Settings, SettingsPatch } from "../client/api-client.ts";
import { UsageError } from "./args.ts";

type Kind = "int" | "number" | "string" | "memory" | "volumes" | "policy" | "bool";
const KEYS: Record<string, Kind> = {
  port: "int",
  replicas: "int",
  cpus: "number",
  drainTimeout: "number",
  memory: "memory",
  startCommand: "string",
  buildCommand: "string",
  rootDir: "string",
  restartPolicy: "policy",
  volumes: "volumes",
};
const HEALTH_KEYS: Record<string, Kind> = { path: "string", status: "int", timeout: "number", interval: "number", startPeriod: "number" };
/** previews.ttl is in hours. */
const PREVIEW_KEYS: Record<string, Kind> = { enabled: "bool", ttl: "number", max: "int", forks: "bool", secrets: "bool" };
export const KNOWN_SETTINGS = [
  ...Object.keys(KEYS),
  "healthcheck",
  ...Object.keys(HEALTH_KEYS).map((k) => `healthcheck.${k}`),
  "previews",
  ...Object.keys(PREVIEW_KEYS).map((k) => `previews.${k}`),
];

export type HealthcheckPatch = { path?: string; status?: number | null; timeout?: number; interval?: number; startPeriod?: number };

export interface ParsedSettings {
  patch: SettingsPatch;
  /** healthcheck.* fields to merge into the current check; absent when none were given. */
  healthcheck?: HealthcheckPatch;
}

export function parseSettingsArgs(pairs: string[]): ParsedSettings {
  if (pairs.length === 0) throw new UsageError("give at least one key=value, e.g. replicas=2");
  const patch: SettingsPatch = {};
  let healthcheck: HealthcheckPatch | undefined;
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`settings take key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (key === "healthcheck") {
      if (raw === "" || raw === "null" || raw === "none") patch.healthcheck = null;
      else healthcheck = { ...healthcheck, path: raw };
      continue;
    }
    if (key.startsWith("healthcheck.")) {
      const sub = key.slice("healthcheck.".length);
      const kind = HEALTH_KEYS[sub];
      if (!kind) throw unknownKey(key);
      const value = convert(key, kind, raw);
      if (value === null && sub !== "status") throw new UsageError(`${key} cannot be reset on its own; reset the whole check with healthcheck=none`);
      healthcheck = { ...healthcheck, [sub]: value };
      continue;
    }
    if (key === "previews") {
      if (raw !== "" && raw !== "null" && raw !== "default") throw new UsageError(`previews takes previews.enabled=true, previews.ttl=24 (hours), previews.max=5, previews.forks=… or previews.secrets=…; previews=default resets them all`);
      patch.previews = null;
      continue;
    }
    if (key.startsWith("previews.")) {
      const sub = key.slice("previews.".length);
      const kind = PREVIEW_KEYS[sub];
      if (!kind) throw unknownKey(key);
      const value = convert(key, kind, raw);
      if (value === null) throw new UsageError(`${key} cannot be reset on its own; reset every previews.* field with previews=default`);
      if (patch.previews === null) throw new UsageError("previews=default and previews.* contradict each other");
      patch.previews = { ...(patch.previews as Record<string, unknown> | undefined), [sub]: value };
      continue;
    }
    const kind = KEYS[key];
    if (!kind) throw unknownKey(key);
    patch[key] = convert(key, kind, raw);
  }
  if (healthcheck && patch.healthcheck === null) throw new UsageError("healthcheck=none and healthcheck.* contradict each other");
  return healthcheck ? { patch, healthcheck } : { patch };
}

/** The healthcheck to send: the current one (API shape) with the given fields changed. */
export function mergeHealthcheck(current: Settings["healthcheck"], change: HealthcheckPatch): NonNullable<Settings["healthcheck"]> | HealthcheckPatch {
  if (!current) {
    if (!change.path) throw new UsageError("this app has no health check yet: set healthcheck.path=/… first (with the other healthcheck.* keys if you like)");
    return change;
  }
  return { ...current, ...change };
}

function unknownKey(key: string): UsageError {
  return new UsageError(`unknown setting ${JSON.stringify(key.slice(0, 40))}; known: ${KNOWN_SETTINGS.join(", ")}`);
}

function convert(key: string, kind: Kind, raw: string): unknown {
  if (raw === "" || raw === "null") return null;
  switch (kind) {
    case "int":
      if (!/^\d{1,6}$/.test(raw)) throw new UsageError(`${key} takes a whole number, got ${JSON.stringify(raw)}`);
      return Number(raw);
    case "number":
      if (!/^\d{1,6}(\.\d{1,3})?$/.test(raw)) throw new UsageError(`${key} takes a number (seconds for times), got ${JSON.stringify(raw)}`);
      return Number(raw);
    case "memory":
      return /^\d+$/.test(raw) ? Number(raw) : raw; // "512" is MB; "512m", "1g" as they are
    case "bool":
      if (["true", "yes", "on", "1"].includes(raw)) return true;
      if (["false", "no", "off", "0"].includes(raw)) return false;
      throw new UsageError(`${key} is true or false, got ${JSON.stringify(raw)}`);
    case "policy":
      if (!["always", "on-failure", "never"].includes(raw)) throw new UsageError(`${key} is always, on-failure or never, got ${JSON.stringify(raw)}`);
      return raw;
    case "volumes":
      return raw.split(",").map((item) => {
        const colon = item.indexOf(":");
        if (colon <= 0) throw new UsageError(`volumes take name:/path[,name:/path], got ${JSON.stringify(item)}`);
        return { name: item.slice(0, colon), path: item.slice(colon + 1) };
      });
    default:
      return raw;
  }
}

/** Settings as aligned `name  value` lines. */
export function settingsLines(s: Settings): string[][] {
  const h = s.healthcheck;
  const health = h ? `${h.path} (status ${h.status ?? "2xx/3xx"}, timeout ${h.timeout}s, interval ${h.interval}s, start period ${h.startPeriod}s)` : "none (any answer at / counts)";
  return [
    ["port", s.port === null ? "auto" : String(s.port)],
    ["replicas", String(s.replicas)],
    ["healthcheck", health],
    ["memory", s.memory === null ? "default" : `${s.memory} MB`],
    ["cpus", s.cpus === null ? "default" : String(s.cpus)],
    ["startCommand", s.startCommand ?? "-"],
    ["buildCommand", s.buildCommand ?? "-"],
    ["rootDir", s.rootDir ?? "-"],
    ["restartPolicy", s.restartPolicy],
    ["volumes", s.volumes.length ? s.volumes.map((v) => `${v.name}:${v.path}`).join(", ") : "-"],
    ["drainTimeout", `${s.drainTimeout}s`],
    ["previews", previewsLine(s.previews)],
  ];
}

function previewsLine(p: Settings["previews"]): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  return `${p.enabled ? "on" : "off"} (ttl ${p.ttl}h, max ${p.max}, forks ${yes(p.forks)}, secrets ${yes(p.secrets)})`;
}

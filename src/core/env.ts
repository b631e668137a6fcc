/**
 * An app's environment: each variable's value (a Secret), whether it is secret (the default; a
 * non-secret one is still never shown, but may be named in logs), and whether the build needs it
 * (`buildTime`: it reaches the build as a BuildKit secret, and changing it means a rebuild).
 * Stored as JSON in the secret store (encrypted), one document per deployment and one per release.
 * Pure: parsing what users send, applying a patch, and the two views the runtime and the build take.
 */
import { badRequest } from "./errors.ts";
import { ENV_NAME_RULE, FORBIDDEN_ENV_HINT, forbiddenEnvMessage, isEnvName } from "./names.ts";
import { Secret } from "./secret.ts";

export interface EnvEntry {
  value: Secret;
  secret: boolean;
  buildTime: boolean;
}

export type AppEnv = Record<string, EnvEntry>;

/** A value as users send it: a string, or an object with flags. */
export type EnvInput = string | { value: string; secret?: boolean; buildTime?: boolean };

export const MAX_ENV_VARS = 200;
const MAX_VALUE_BYTES = 32 * 1024;

/** Validates `{NAME: value | {value, secret?, buildTime?}}`; names and values are checked, values never echoed. */
export function parseEnvInput(input: unknown, field = "env"): AppEnv {
  if (!input || typeof input !== "object" || Array.isArray(input)) throw badRequest(`${field} must be an object of NAME: value`, 'e.g. {"API_URL": "https://…"}');
  const out: AppEnv = {};
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_ENV_VARS) throw badRequest(`${field}: at most ${MAX_ENV_VARS} variables`, "keep fewer variables, or put configuration in a file");
  for (const [name, raw] of entries) out[checkName(name, field)] = entry(name, raw, field);
  return out;
}

export function checkName(name: string, field = "env"): string {
  if (!isEnvName(name) || name.length > 128) throw badRequest(`${field}: ${JSON.stringify(name.slice(0, 60))} is not a variable name`, `use ${ENV_NAME_RULE}`);
  // `out[name] = …` would set the object's prototype instead of a key: the variable would vanish.
  if (name === "__proto__") throw badRequest(`${field}: __proto__ is not a variable name Kiln can store`, "rename the variable");
  if (name === "PORT") throw badRequest(`${field}: PORT is set by Kiln`, "set settings.port to the port the app listens on instead");
  const forbidden = forbiddenEnvMessage(name);
  if (forbidden) throw badRequest(forbidden, FORBIDDEN_ENV_HINT);
  return name;
}

function entry(name: string, raw: unknown, field: string): EnvEntry {
  const o = typeof raw === "string" ? { value: raw } : raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
  if (!o || typeof o.value !== "string") throw badRequest(`${field}.${name}: the value must be a string`, 'send "value" or {"value": "…", "secret": true, "buildTime": false}');
  for (const k of Object.keys(o)) if (!["value", "secret", "buildTime"].includes(k)) throw badRequest(`${field}.${name}: unknown field ${JSON.stringify(k.slice(0, 30))}`, "known: value, secret, buildTime");
  if (o.value.includes("\0")) throw badRequest(`${field}.${name}: the value contains a NUL byte`, "remove it: environment values cannot carry NUL");
  if (Buffer.byteLength(o.value) > MAX_VALUE_BYTES) throw badRequest(`${field}.${name}: the value is over 32 KiB`, "put large configuration in a file or a volume");
  if (o.secret !== undefined && typeof o.secret !== "boolean") throw badRequest(`${field}.${name}.secret must be true or false`);
  if (o.buildTime !== undefined && typeof o.buildTime !== "boolean") throw badRequest(`${field}.${name}.buildTime must be true or false`);
  return { value: new Secret(o.value), secret: o.secret ?? true, buildTime: o.buildTime ?? false };
}

/** From plain NAME=value pairs (the first deploy's env, the upload header). */
export function envFromPlain(plain: Record<string, string>): AppEnv {
  return parseEnvInput(plain);
}

/** The stored form (only ever written to the encrypted secret store). */
export function encodeEnv(env: AppEnv): string {
  const doc: Record<string, { v: string; s: boolean; b: boolean }> = {};
  for (const [k, e] of Object.entries(env)) doc[k] = { v: e.value.reveal(), s: e.secret, b: e.buildTime };
  return JSON.stringify(doc);
}

/** Reads the stored form; older rows were plain {NAME: value}. */
export function decodeEnv(json: string | null): AppEnv {
  if (!json) return {};
  const doc = JSON.parse(json) as Record<string, string | { v: string; s?: boolean; b?: boolean }>;
  const out: AppEnv = {};
  for (const [k, v] of Object.entries(doc)) {
    out[k] = typeof v === "string" ? { value: new Secret(v), secret: true, buildTime: false } : { value: new Secret(v.v), secret: v.s ?? true, buildTime: v.b ?? false };
  }
  return out;
}

/** Every variable, for the app's container. */
export function runtimeEnv(env: AppEnv): Record<string, Secret> {
  return Object.fromEntries(Object.entries(env).map(([k, e]) => [k, e.value]));
}

/** The build-time variables only, for the builder (as BuildKit secrets). */
export function buildEnv(env: AppEnv): Record<string, Secret> {
  return Object.fromEntries(Object.entries(env).flatMap(([k, e]) => (e.buildTime ? [[k, e.value]] : [])));
}

/** Keys and flags, never values: what the API shows. */
export function describeEnv(env: AppEnv): { key: string; secret: boolean; buildTime: boolean }[] {
  return Object.keys(env)
    .sort()
    .map((key) => ({ key, secret: env[key]!.secret, buildTime: env[key]!.buildTime }));
}

/** Whether going from `before` to `after` changes anything the build sees (a build-time variable). */
export function buildEnvChanged(before: AppEnv, after: AppEnv): boolean {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys) {
    const a = before[k];
    const b = after[k];
    if (!a?.buildTime && !b?.buildTime) continue;
    if (!a || !b || a.buildTime !== b.buildTime || a.value.reveal() !== b.value.reveal()) return true;
  }
  return false;
}

/** What a change did, by name only: "set A, B; unset C". */
export function describeEnvChange(before: AppEnv, after: AppEnv): string {
  const set = Object.keys(after).filter((k) => !before[k] || before[k]!.value.reveal() !== after[k]!.value.reveal() || before[k]!.secret !== after[k]!.secret || before[k]!.buildTime !== after[k]!.buildTime);
  const unset = Object.keys(before).filter((k) => !after[k]);
  const parts = [set.length ? `set ${set.sort().join(", ")}` : "", unset.length ? `unset ${unset.sort().join(", ")}` : ""].filter(Boolean);
  return parts.join("; ") || "no change";
}

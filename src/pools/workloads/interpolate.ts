/**
 * Environment interpolation in workload files, as in Compose: in every string value (not keys),
 * `${VAR}` is replaced with VAR from Kiln's environment and `${VAR:-default}` falls back to
 * `default` when VAR is unset or empty. `$${` writes a literal `${`. A `$` not followed by `{` is
 * left alone (so shell commands keep their `$HOME`).
 *
 * `${tenantId}` is not an environment variable: it is kept as written in sync.sink.prefix (where
 * it is expanded per tenant) and refused anywhere else.
 */
import { ENV_NAME_PATTERN } from "../../core/names.ts";
import type { FieldPath, ProblemList } from "./errors.ts";

export type WorkloadEnv = Readonly<Record<string, string | undefined>>;

export const TENANT_ID_REF = "${tenantId}";

/** The environment variables a file used: name → the value it had, or null if unset (default used). */
export type UsedEnv = Map<string, string | null>;

const REF = /\$\$\{|\$\{/g;
const INNER = new RegExp(`^(${ENV_NAME_PATTERN})(?::-([^]*))?$`);

interface StringContext {
  env: WorkloadEnv;
  used: UsedEnv;
  keepTenantId: boolean;
}

/** Interpolates one string; returns the problem instead when it can't. */
export function interpolateString(text: string, ctx: StringContext): { value: string } | { problem: string; hint?: string } {
  let out = "";
  let last = 0;
  REF.lastIndex = 0;
  for (let m = REF.exec(text); m; m = REF.exec(text)) {
    out += text.slice(last, m.index);
    if (m[0] === "$${") {
      out += "${";
      last = REF.lastIndex;
      continue;
    }
    const close = text.indexOf("}", REF.lastIndex);
    if (close < 0) return { problem: "has an unclosed ${", hint: "write ${NAME} or ${NAME:-default}; $${ gives a literal ${" };
    const inner = text.slice(REF.lastIndex, close);
    last = REF.lastIndex = close + 1;
    if (inner === "tenantId") {
      if (!ctx.keepTenantId) {
        return { problem: "${tenantId} is only expanded in sync.sink.prefix", hint: "a workload is shared by all tenants; per-tenant data arrives through the state and secrets volumes" };
      }
      out += TENANT_ID_REF;
      continue;
    }
    const ref = INNER.exec(inner);
    if (!ref) {
      const shown = inner.length > 40 ? `${inner.slice(0, 40)}…` : inner;
      return { problem: `has a bad reference \${${shown}}`, hint: "write ${NAME} or ${NAME:-default} (NAME: letters, digits, _); $${ gives a literal ${" };
    }
    const name = ref[1]!;
    const fallback = ref[2];
    const value = ctx.env[name];
    ctx.used.set(name, value ?? null);
    if (value !== undefined && (value !== "" || fallback === undefined)) {
      out += value;
    } else if (fallback !== undefined) {
      out += fallback;
    } else {
      return { problem: `\${${name}} is not set in Kiln's environment`, hint: `set ${name} where Kiln runs, or give a default: \${${name}:-value}` };
    }
  }
  return { value: out + text.slice(last) };
}

const isPrefixPath = (path: FieldPath) => path.length === 3 && path[0] === "sync" && path[1] === "sink" && path[2] === "prefix";

/** Interpolates every string value in a parsed YAML tree. Problems are added with their field path. */
export function interpolateTree(tree: unknown, env: WorkloadEnv, problems: ProblemList): { value: unknown; used: UsedEnv } {
  const used: UsedEnv = new Map();
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") {
      const r = interpolateString(node, { env, used, keepTenantId: isPrefixPath(path) });
      if ("problem" in r) {
        problems.add(path, r.problem, r.hint);
        return node;
      }
      return r.value;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === "object") {
      // fromEntries defines own properties: a key "__proto__" stays a key (an assignment would set the prototype)
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(tree, []), used };
}

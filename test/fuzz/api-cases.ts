/**
 * Random requests for every route of the API, read from its OpenAPI document: path parameters
 * with '..', encoded slashes, NULs, unicode and huge lengths; queries of the wrong type; bodies
 * built from each route's schema and then mutated (wrong types, huge strings, deep nesting,
 * unicode, NUL bytes, extra and missing fields, huge and negative numbers), or not JSON at all.
 *
 * A git URL is never one Kiln could fetch from outside: only malformed, refused or loopback ones.
 */
import type { Rng } from "./prng.ts";

export interface Operation {
  method: string;
  /** As in the document: "/deployments/{id}". */
  path: string;
  params: string[];
  query: string[];
  /** The JSON body's schema, when the route takes one. */
  body?: JsonSchema;
  binaryBody: boolean;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  additionalProperties?: JsonSchema | boolean;
  $ref?: string;
  anyOf?: JsonSchema[];
}

export interface ApiRequest {
  method: string;
  /** Already encoded (sent as is). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  label: string;
}

/** Every operation of the document (paths relative to /api/v1). */
export function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  const deref = (s: any): JsonSchema | undefined => (s?.$ref ? doc.components?.schemas?.[s.$ref.split("/").pop()] : s);
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params = (op.parameters ?? []).filter((p: any) => p.in === "path").map((p: any) => p.name);
      const query = (op.parameters ?? []).filter((p: any) => p.in === "query").map((p: any) => p.name);
      const content = op.requestBody?.content ?? {};
      ops.push({ method: method.toUpperCase(), path, params, query, body: deref(content["application/json"]?.schema), binaryBody: "application/octet-stream" in content });
    }
  }
  return ops;
}

const HOSTILE_SEGMENTS = [
  "..", "%2e%2e", "%2E%2E%2F%2E%2E", "a%2Fb", "..%2F..%2Fetc%2Fpasswd", "%00", "a%00b", "%", "%zz", "%C0%AE%C0%AE", "%E6%96%87", "%F0%9F%94%A5",
  "x".repeat(65), "x".repeat(201), "x".repeat(5000), "-", "_", ".", "CON", "nonexistent", "hello", "acme-42", "%20", "+", "a;b", "a?b=c", "%23x", "'", "%22%3E%3Cscript%3E",
];

const HOSTILE_STRINGS = [
  "", " ", "x".repeat(70_000), "\u0000", "a\u0000b", "../../etc/passwd", "/etc/passwd", "$(id)", "`id`", "; rm -rf /", "--upload-pack=touch /tmp/kiln-fuzz-pwned",
  "-oProxyCommand=touch /tmp/kiln-fuzz-pwned", "ext::sh -c touch% /tmp/kiln-fuzz-pwned", "file:///etc", "http://127.0.0.1:9/x.git", "https://user:pass@127.0.0.1:9/x.git",
  "http://127.0.0.1:9/x.git#frag", "\u202e\u200b", "文件", "🔥".repeat(300), "%00", "\r\nX-Injected: 1", "PORT", "LD_PRELOAD", "HTTPS_PROXY", "a".repeat(255), "echo",
];

/** The only git URLs a case may send that pass validation: loopback, a closed port. */
const LOOPBACK_GIT = ["http://127.0.0.1:9/x.git", "http://127.0.0.1:9/"];

function randomJson(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 3 ? 5 : 8)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e-308, 123456789012345678901234567890]);
    case 3: return rng.pick(HOSTILE_STRINGS);
    case 4: return String.fromCharCode(...Array.from({ length: rng.int(0, 40) }, () => rng.int(0, 0xffff)));
    case 5: return "plain";
    case 6: return Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(0, 5); i > 0; i--) out[rng.pick(["a", "gitUrl", "workload", "__proto__", "constructor", "env", "", "x".repeat(300)])] = randomJson(rng, depth + 1);
      return out;
    }
  }
}

/** A value that fits the schema (roughly), to be mutated. */
function fromSchema(rng: Rng, s: JsonSchema | undefined, key = ""): unknown {
  if (!s) return randomJson(rng);
  if (s.enum) return rng.pick(s.enum);
  if (s.anyOf) return fromSchema(rng, rng.pick(s.anyOf), key);
  const type = Array.isArray(s.type) ? rng.pick(s.type) : s.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(s.properties ?? {})) if (s.required?.includes(k) || rng.chance(0.5)) out[k] = fromSchema(rng, sub, k);
      if (s.additionalProperties && typeof s.additionalProperties === "object") {
        for (let i = rng.int(0, 3); i > 0; i--) out[rng.pick(["NODE_ENV", "A_B", "PORT", "LD_PRELOAD", "lower", "1BAD", "A-B", ""])] = fromSchema(rng, s.additionalProperties);
      }
      return out;
    }
    case "array": return Array.from({ length: rng.int(0, 3) }, () => fromSchema(rng, s.items));
    case "string":
      if (key === "gitUrl") return rng.pick([...LOOPBACK_GIT, ...HOSTILE_STRINGS.filter((x) => !/^https?:\/\/[^u]/.test(x))]);
      return rng.pick(["hello", "echo", "main", "fuzz-app", "tok", ...HOSTILE_STRINGS]);
    case "boolean": return rng.chance(0.5);
    case "integer":
    case "number": return rng.pick([0, 1, -1, 1e308]);
    default: return randomJson(rng);
  }
}

function deepNest(rng: Rng): unknown {
  let v: unknown = 1;
  for (let i = rng.int(100, 20_000); i > 0; i--) v = rng.chance(0.5) ? [v] : { a: v };
  return v;
}

function mutate(rng: Rng, value: unknown, label: string[]): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const obj = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(obj);
  switch (rng.int(0, 7)) {
    case 0: if (keys.length) { const k = rng.pick(keys); delete obj[k]; label.push(`-${k}`); } break;
    case 1: obj[rng.pick(["extra", "id", "status", "__proto__", "isAdmin"])] = randomJson(rng); label.push("+extra"); break;
    case 2: if (keys.length) { const k = rng.pick(keys); obj[k] = randomJson(rng); label.push(`${k}=random`); } break;
    case 3: if (keys.length) { const k = rng.pick(keys); obj[k] = deepNest(rng); label.push(`${k}=deep`); } break;
    case 4: if (keys.length) { const k = rng.pick(keys); obj[k] = rng.pick([1e308, -1, -(2 ** 53), 2 ** 64, 0.1]); label.push(`${k}=number`); } break;
    case 5: if (keys.length) { const k = rng.pick(keys); obj[k] = "x".repeat(rng.pick([65, 256, 4097, 40_000, 300_000])); label.push(`${k}=huge`); } break;
    case 6: return randomJson(rng);
    default: break;
  }
  return obj;
}

/** One request for one operation. */
export function apiRequest(rng: Rng, op: Operation, token: string): ApiRequest {
  const label: string[] = [`${op.method} ${op.path}`];
  let path = op.path;
  for (const p of op.params) {
    const seg = rng.chance(0.7) ? rng.pick(HOSTILE_SEGMENTS) : encodeURIComponent(String(rng.pick(HOSTILE_STRINGS)).slice(0, 300));
    path = path.replace(`{${p}}`, seg);
    label.push(`${p}=${seg.slice(0, 40)}`);
  }
  const query: string[] = [];
  for (const q of op.query) if (rng.chance(0.7)) query.push(`${q}=${encodeURIComponent(String(fromSchema(rng, { type: "string" })).slice(0, 2000))}`);
  if (rng.chance(0.2)) query.push(rng.pick(["since=-1", "since=abc", "x=%00", "a[b]=c", "name=", "name=..%2F..", "token=wrong"]));
  if (query.length) path += `?${query.join("&")}`;

  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: string | Uint8Array | undefined;
  if (op.body || rng.chance(0.15)) {
    const kind = rng.int(0, 9);
    if (kind === 0) {
      body = rng.pick(["{", "not json", "[1,2", '{"a":', "\u0000", "", "null", "1", '"str"', "[]", `{"a":"${"\\u0000".repeat(10)}"}`]);
      label.push(`raw ${JSON.stringify(body).slice(0, 20)}`);
    } else if (kind === 1) {
      body = rng.bytes(rng.int(1, 500));
      label.push("binary");
    } else {
      body = JSON.stringify(mutate(rng, fromSchema(rng, op.body), label));
    }
    const type = rng.chance(0.85) ? "application/json" : rng.pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=latin1", ""]);
    if (type) headers["content-type"] = type;
    label.push(`${type || "no type"}, ${typeof body === "string" ? body.length : body.length} bytes`);
  }
  return { method: op.method, path, headers, body, label: label.join("; ") };
}

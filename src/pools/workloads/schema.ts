/**
 * The workload YAML as written (snake_case, Compose-like), after env interpolation. Each field
 * checks its own value and reads its units (durations → ms, sizes → bytes, cpus → nano-CPUs);
 * checks across fields (min ≤ max, …) and defaults are in to-workload.ts.
 *
 * Every object is strict: an unknown field is an error, with a "did you mean" when it is close to
 * a known one. A field that is null (`key:` with nothing after it) counts as absent.
 */
import { z } from "zod";
import { DEPLOYMENT_NAME_RULE, S3_BUCKET_RULE, WORKLOAD_ID_RULE, isDeploymentName, isEnvName, isImageRef, isS3Bucket, isWorkloadId } from "../../core/names.ts";
import { Secret } from "../../core/secret.ts";
import { closest } from "./errors.ts";
import { TENANT_ID_REF } from "./interpolate.ts";
import { rcloneFlagProblem } from "./rclone-flags.ts";
import { UnitError, parseCpusToNano, parseDurationMs, parseSizeBytes } from "./units.ts";

// ───────────────────────────── field helpers ─────────────────────────────

/** A field's value is wrong; `path` points below the field (e.g. an item of a list). */
class FieldProblem extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
  }
}
const fail = (message: string, path?: (string | number)[]): never => {
  throw new FieldProblem(message, path);
};

type Report = (message: string, path?: (string | number)[]) => void;

/**
 * A field read by `parse`, which throws a FieldProblem/UnitError for one problem or calls
 * `report` for several. Required: absent or null is "is required".
 */
function req<T>(parse: (v: unknown, report: Report) => T) {
  return z.unknown().transform((v, ctx) => {
    if (v === undefined || v === null) {
      ctx.addIssue({ code: "custom", message: "is required" });
      return z.NEVER;
    }
    let failed = false;
    const report: Report = (message, path = []) => {
      failed = true;
      ctx.addIssue({ code: "custom", message, path });
    };
    try {
      const out = parse(v, report);
      return failed ? z.NEVER : out;
    } catch (e) {
      if (e instanceof FieldProblem) report(e.message, e.path);
      else if (e instanceof UnitError) report(e.message);
      else throw e;
      return z.NEVER;
    }
  });
}

/** Optional: absent or null gives undefined. */
const opt = <T>(parse: (v: unknown, report: Report) => T) =>
  z.preprocess((v) => (v === null ? undefined : v), req(parse).optional());

const typeName = (v: unknown) => (Array.isArray(v) ? "a list" : v === null ? "null" : typeof v === "object" ? "a mapping" : `a ${typeof v}`);

/** Unknown fields that are Compose habits, with where Kiln wants them instead. */
const TOP_LEVEL_HINTS: Record<string, string> = {
  cpus: "set deploy.resources.limits.cpus",
  mem_limit: "set deploy.resources.limits.memory",
  memory: "set deploy.resources.limits.memory",
  env: "did you mean environment?",
  env_file: "not supported: list the variables under environment, with ${VAR} for values from Kiln's environment",
  cmd: "did you mean command?",
  entrypoint: "not supported: set command (the image's entrypoint stays)",
  restart: "not supported: Kiln replaces pool members itself",
  container_name: "not supported: Kiln names pool members",
  networks: "not supported: set network_mode",
  privileged: "not supported: pool members never run privileged",
  cap_add: "not supported: pool members run with all capabilities dropped",
  expose: "did you mean ports?",
};

const PORT_HINTS: Record<string, string> = {
  target: 'did you mean "container"?',
  published: "not supported: Kiln chooses the host port",
  host_ip: "not supported: Kiln publishes on 127.0.0.1",
  mode: "not supported",
};

function unknownFieldMessage(key: string, known: readonly string[], hints: Record<string, string>): string {
  const hint = Object.hasOwn(hints, key) ? hints[key] : undefined; // not "constructor" and the like
  if (hint) return `unknown field: ${hint}`;
  const near = closest(key, known);
  return near ? `unknown field: did you mean "${near}"?` : `unknown field (known: ${known.join(", ")})`;
}

// An unknown-keys issue carries one "key<KEY_SEP>message" per key, split again by issueProblems.
const KEY_SEP = "\u0001";
const ITEM_SEP = "\u0000";

/** A strict mapping: every unknown key is reported at its own path, with a suggestion. */
function obj<S extends z.ZodRawShape>(shape: S, hints: Record<string, string> = {}) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === "unrecognized_keys") {
        return iss.keys.map((k) => `${k}${KEY_SEP}${unknownFieldMessage(k, known, hints)}`).join(ITEM_SEP);
      }
      if (iss.code === "invalid_type") return iss.input === undefined ? "is required" : `must be a mapping (key: value lines), not ${typeName(iss.input)}`;
      return undefined;
    },
  });
}

export interface SchemaProblem {
  path: (string | number)[];
  message: string;
}

/** A zod issue as problems with their field paths (an unknown-keys issue gives one per key). */
export function issueProblems(iss: z.core.$ZodIssue): SchemaProblem[] {
  const path = iss.path.map((p) => (typeof p === "symbol" ? String(p) : p));
  if (iss.code !== "unrecognized_keys") return [{ path, message: iss.message }];
  return iss.message.split(ITEM_SEP).map((item) => {
    const [key, message] = item.split(KEY_SEP) as [string, string | undefined];
    return { path: [...path, key], message: message ?? "unknown field" };
  });
}

function list(v: unknown): unknown[] {
  if (!Array.isArray(v)) return fail(`must be a list, not ${typeName(v)}`);
  return v;
}

function listOf<T>(v: unknown, report: Report, item: (x: unknown, i: number) => T): T[] {
  const out: T[] = [];
  list(v).forEach((x, i) => {
    try {
      out.push(item(x, i));
    } catch (e) {
      if (e instanceof FieldProblem) report(e.message, [i, ...e.path]);
      else if (e instanceof UnitError) report(e.message, [i]);
      else throw e;
    }
  });
  return out;
}

function str(v: unknown): string {
  if (typeof v !== "string") return fail(typeof v === "number" || typeof v === "boolean" ? "must be a string (put it in quotes)" : `must be a string, not ${typeName(v)}`);
  return v;
}

function text(v: unknown, max = 1024): string {
  const s = str(v);
  if (s.trim() === "") fail("must not be empty");
  if (s.length > max) fail(`must be at most ${max} characters`);
  return s;
}

function bool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (v === "true") return true; // from ${VAR} interpolation
  if (v === "false") return false;
  return fail("must be true or false");
}

function int(min: number, max: number) {
  return (v: unknown): number => {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n)) return fail(`must be a whole number from ${min} to ${max}`);
    if (n < min || n > max) return fail(`must be from ${min} to ${max}`);
    return n;
  };
}

function oneOf<const T extends string>(values: readonly T[], note = "") {
  return (v: unknown): T => {
    if (typeof v === "string" && (values as readonly string[]).includes(v)) return v as T;
    const near = typeof v === "string" ? closest(v, values) : null;
    return fail(`must be one of: ${values.join(", ")}${note}${near ? ` (did you mean ${near}?)` : ""}`);
  };
}

function unitValue<T>(parse: (v: string | number) => T) {
  return (v: unknown): T => {
    if (typeof v !== "string" && typeof v !== "number") return parse(""); // fails with the unit's own message
    return parse(v);
  };
}

const durationMs = (minMs: number, what: string) => (v: unknown) => {
  const ms = unitValue(parseDurationMs)(v);
  if (ms < minMs) fail(`must be at least ${what}`);
  return ms;
};

// ───────────────────────────── field values ─────────────────────────────

function workloadId(v: unknown): string {
  const s = str(v);
  if (!isWorkloadId(s)) fail(`must be a DNS label: ${WORKLOAD_ID_RULE}`);
  return s;
}

function imageRef(v: unknown): string {
  const s = text(v, 255);
  if (/\s/.test(s)) fail("must not contain spaces");
  const dep = /^deployment:(.*)$/.exec(s);
  if (dep && !isDeploymentName(dep[1]!)) fail(`deployment:<name> needs a deployment name: ${DEPLOYMENT_NAME_RULE}`);
  if (!dep && !isImageRef(s)) fail('must be an image reference like "kiln/node-runtime:20-host" or "deployment:<name>"');
  return s;
}

const KILN_TMPFS = ["/tmp", "/run"];

function containerPath(v: unknown): string {
  const s = text(v, 255);
  if (!s.startsWith("/")) fail('must be an absolute path in the container, like "/state"');
  if (s === "/") fail("must not be the container's root");
  const segments = s.split("/").slice(1);
  if (segments.some((seg) => seg === ".." || seg === "." || seg === "")) fail('must be a plain absolute path (no "..", "." or "//", no trailing "/")');
  if (/[:,\\\0]/.test(s)) fail('must not contain ":", ",", "\\"');
  if (/^\/(proc|sys|dev)(\/|$)/.test(s)) fail("must not be under /proc, /sys or /dev");
  if (KILN_TMPFS.includes(s)) fail(`is where Kiln mounts a tmpfs (${KILN_TMPFS.join(", ")}); choose another path`);
  return s;
}

function envValue(v: unknown, path: (string | number)[]): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return fail('needs a value (write "" for an empty one)', path);
  return fail(`must be a string, number or true/false, not ${typeName(v)}`, path);
}

/** A mapping `KEY: value`, or the Compose list form `- KEY=value`. */
function environment(v: unknown, report: Report): Record<string, string> {
  const out = new Map<string, string>(); // a Map: names like "constructor" or "__proto__" are plain names here
  const put = (key: string, value: string, path: (string | number)[]) => {
    if (!isEnvName(key)) return report("must be a shell-style name (letters, digits, _; not starting with a digit)", path);
    if (out.has(key)) return report(`sets ${key} twice`, path);
    out.set(key, value);
  };
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      if (typeof item !== "string") return report("must be a KEY=value string", [i]);
      const eq = item.indexOf("=");
      if (eq < 0) return report(`must be KEY=value (Kiln does not pass through its own variables; write ${item.slice(0, 40)}=\${${item.slice(0, 40)}})`, [i]);
      put(item.slice(0, eq), item.slice(eq + 1), [i]);
    });
    return Object.fromEntries(out);
  }
  if (typeof v !== "object" || v === null) return fail(`must be a mapping (KEY: value) or a list of KEY=value, not ${typeName(v)}`);
  for (const [k, val] of Object.entries(v)) {
    try {
      put(k, envValue(val, [k]), [k]);
    } catch (e) {
      if (e instanceof FieldProblem) report(e.message, e.path);
      else throw e;
    }
  }
  return Object.fromEntries(out);
}

/** A list of arguments, or a string run by `sh -c`. */
function command(v: unknown, report: Report): string[] {
  if (typeof v === "string") {
    if (v.trim() === "") fail("must not be empty");
    return ["sh", "-c", v];
  }
  if (!Array.isArray(v)) return fail(`must be a list of arguments or a shell command string, not ${typeName(v)}`);
  if (v.length === 0) fail("must not be an empty list (leave it out to use the image's command)");
  return listOf(v, report, (x) => (typeof x === "number" ? String(x) : str(x)));
}

/** ["CMD", …], ["CMD-SHELL", "…"], ["NONE"], or a string (→ CMD-SHELL). */
function healthTest(v: unknown): string[] {
  if (typeof v === "string") {
    if (v.trim() === "") fail("must not be empty");
    return ["CMD-SHELL", v];
  }
  const items = list(v);
  if (!items.every((x) => typeof x === "string")) fail("must be a list of strings");
  const args = items as string[];
  const kind = args[0];
  if (kind === "NONE" && args.length === 1) return args;
  if (kind === "CMD" && args.length >= 2) return args;
  if (kind === "CMD-SHELL" && args.length === 2) return args;
  if (kind === "CMD-SHELL") fail('["CMD-SHELL", "<one shell command>"] takes exactly one command string');
  if (kind === "CMD") fail('["CMD", …] needs the program to run, e.g. ["CMD", "curl", "-f", "http://127.0.0.1:8080/"]');
  return fail('must start with "CMD" or "CMD-SHELL" (or be a shell command string)');
}

function user(v: unknown): string {
  const s = typeof v === "number" ? String(v) : str(v);
  const m = /^(\d+)(?::(\d+))?$/.exec(s);
  if (!m || ![m[1], m[2]].every((id) => id === undefined || Number(id) <= 2 ** 32 - 2)) {
    fail('must be a numeric uid or uid:gid, e.g. "1000" or "1000:1000": Kiln cannot look user names up in the image without running it');
  }
  return s;
}

function networkMode(v: unknown): string {
  const s = text(v, 128);
  if (s === "none") return s;
  if (s === "host") fail("host networking is not allowed: pool members are isolated from the host and from each other");
  if (/^(container|service):/.test(s)) fail("joining another container's network is not allowed");
  return fail('only "none" is allowed: members always run on Kiln\'s own network, where they cannot reach each other (remove network_mode, or set it to "none" for no network at all)');
}

export interface PortValue {
  container: number;
  protocol: "tcp" | "udp";
}

const portNumber = int(1, 65535);
const protocol = oneOf(["tcp", "udp"] as const);
const PortObject = obj({ container: req(portNumber), protocol: opt(protocol) }, PORT_HINTS);

/** 8080, "8080", "8080/tcp" or {container: 8080, protocol: tcp}. */
function port(v: unknown): PortValue {
  if (typeof v === "number") return { container: portNumber(v), protocol: "tcp" };
  if (typeof v === "string") {
    if (v.includes(":")) fail("Kiln chooses the host port: give only the container port (e.g. 8080)");
    const m = /^(\d+)(?:\/(\w+))?$/.exec(v.trim());
    if (!m) return fail('must be a container port: 8080, "8080/tcp" or {container: 8080, protocol: tcp}');
    return { container: portNumber(m[1]), protocol: m[2] === undefined ? "tcp" : protocol(m[2]) };
  }
  const r = PortObject.safeParse(v);
  if (!r.success) {
    const first = issueProblems(r.error.issues[0]!)[0]!;
    return fail(first.message, first.path);
  }
  return { container: r.data.container, protocol: r.data.protocol ?? "tcp" };
}

function ports(v: unknown, report: Report): PortValue[] {
  return listOf(v, report, port);
}

function bucket(v: unknown): string {
  const s = str(v);
  if (!isS3Bucket(s)) fail(`must be an S3 bucket name: ${S3_BUCKET_RULE} (no path: use prefix)`);
  return s;
}

function endpoint(v: unknown): string {
  const s = text(v, 2048);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return fail('must be a URL like "http://127.0.0.1:9000" or "https://s3.example.com"');
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail("must be an http:// or https:// URL");
  if (url.username || url.password) fail("must not contain credentials: set access_key_id and secret_access_key");
  return s;
}

const secret = (v: unknown): Secret => new Secret(text(v, 4096));

function prefix(v: unknown): string {
  const s = text(v, 512);
  if (!s.includes(TENANT_ID_REF)) fail(`must contain ${TENANT_ID_REF}, so each tenant's state is kept apart (e.g. "tenants/${TENANT_ID_REF}/")`);
  if (s.startsWith("/")) fail("must be relative to the bucket (no leading /)");
  if (s.split("/").some((seg) => seg === ".." || seg === ".")) fail('must not contain "." or ".." segments');
  return s;
}

function rcloneFlags(v: unknown, report: Report): string[] {
  return listOf(v, report, (x) => {
    const flag = str(x);
    const problem = rcloneFlagProblem(flag);
    if (problem) fail(problem);
    return flag;
  });
}

/** A path inside the state volume: "/" (or "", ".") is all of it; others are relative. */
function mappingPath(v: unknown): string {
  const s = str(v).trim();
  if (s === "/" || s === "" || s === "." || s === "./") return "/";
  if (s.startsWith("/")) fail(`must be relative to the state volume: write "${s.replace(/^\/+/, "")}", or "/" for all of it`);
  const clean = s.replace(/^\.\//, "").replace(/\/+$/, "");
  if (clean.split("/").some((seg) => seg === ".." || seg === "." || seg === "")) fail('must stay inside the state volume (no "..", "." or "//")');
  if (/[\\\0]/.test(clean)) fail('must not contain "\\"');
  return clean;
}

// ───────────────────────────── the file ─────────────────────────────

const Mapping = obj({
  path: req(mappingPath),
  direction: opt(oneOf(["upload", "download", "bidirectional"] as const)),
  mode: opt(oneOf(["sync", "copy"] as const)),
});

const Sync = obj({
  sink: obj({
    type: req(oneOf(["s3"] as const, " (the only sink type Kiln supports for now)")),
    bucket: req(bucket),
    region: opt((v) => {
      const s = text(v, 64);
      if (!/^[a-z0-9-]+$/.test(s)) fail('must be a region name like "us-east-1"');
      return s;
    }),
    endpoint: opt(endpoint),
    access_key_id: opt(secret),
    secret_access_key: opt(secret),
    prefix: opt(prefix),
    rclone_flags: opt(rcloneFlags),
  }),
  mappings: z.preprocess(
    (v) => (v === null ? undefined : v),
    z.array(Mapping, { error: (iss) => `must be a list of {path, direction, mode}, not ${typeName(iss.input)}` }).optional(),
  ),
  policy: obj({
    on_claim: opt(bool),
    on_release: opt(bool),
    manual: opt(bool),
    periodic: opt(durationMs(1000, "1s (leave it out for no periodic sync)")),
  }).nullish(),
  timeout: opt(durationMs(1000, "1s")),
});

export const WorkloadFileSchema = obj(
  {
    id: req(workloadId),
    name: opt((v) => text(v, 100)),
    image: req(imageRef),
    volumes: obj({
      state: obj({ target: req(containerPath) }).nullish(),
      secrets: obj({ target: req(containerPath), read_only: opt(bool) }).nullish(),
    }).nullish(),
    environment: opt(environment),
    command: opt(command),
    healthcheck: obj({
      test: opt(healthTest),
      interval: opt(durationMs(1, "1ms")),
      timeout: opt(durationMs(1, "1ms")),
      start_period: opt(durationMs(0, "0s")),
      retries: opt(int(1, 100)),
      disable: opt(bool),
    }).nullish(),
    deploy: obj({
      resources: obj({
        limits: obj({
          cpus: opt(unitValue(parseCpusToNano)),
          memory: opt((v) => {
            const bytes = unitValue(parseSizeBytes)(v);
            if (bytes < 6 * 1024 * 1024) fail("must be at least 6M (Docker's minimum)");
            return bytes;
          }),
        }).nullish(),
      }).nullish(),
    }).nullish(),
    read_only: opt(bool),
    user: opt(user),
    network_mode: opt(networkMode),
    ports: opt(ports),
    pool: obj({
      min_size: opt(int(0, 1000)),
      max_size: opt(int(1, 1000)),
      idle_timeout: opt(durationMs(1000, "1s")),
    }).nullish(),
    sync: Sync.nullish(),
  },
  TOP_LEVEL_HINTS,
);

/** A workload file after validation: snake_case as written, units already read. */
export type WorkloadFile = z.output<typeof WorkloadFileSchema>;

export const TOP_LEVEL_FIELDS: readonly string[] = Object.keys(WorkloadFileSchema.shape);

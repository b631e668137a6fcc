/**
 * Every kind of name Kiln accepts, each with one pattern and one check. The API's schemas
 * (`z.string().regex(DEPLOYMENT_NAME, DEPLOYMENT_NAME_RULE)`), the workload YAML schema and the
 * adapters' defensive checks all use these, so a name valid in one place is valid in all.
 *
 *   kind              rule                                                   where it ends up
 *   DNS label         1–63 of a-z 0-9 '-', no '-' at either end              any one label of a host name
 *   host name         DNS labels joined by '.', at most 253 characters       Caddy route hosts
 *   deployment name   a DNS label of 1–40                                    http://<name>.<public host>/
 *   workload id       a DNS label of 1–40                                    http://<tenant>.<workload>.<public host>/
 *   tenant id         a DNS label of 1–63                                    that URL, a directory, a storage prefix
 *   pool member id    1–63 of a-z 0-9 '_' '-', starting with a-z or 0-9      a slot directory name
 *   env var name      letters, digits, '_', not starting with a digit        a container's or a child's env
 *     (deployment)    and not a loader, proxy, certificate… variable         railpack/buildctl on the host too
 *   S3 bucket         3–63 of a-z 0-9 '.' '-', a-z or 0-9 at either end      rclone's remote path
 *   image reference   a letter or digit, then letters, digits, . _ - / : @   FROM lines, workload `image`
 *
 * Deployment, workload, tenant and member names are lowercase only and never case-folded:
 * "Alice" and "alice" must not quietly become one tenant. Each `…_RULE` is the rule in words,
 * for error messages. Pure, no I/O. Ids Kiln makes itself (random, already valid) are in ids.ts.
 *
 *   if (!isTenantId(label)) return null;            // a predicate where a refusal is not an error
 *   validateDeploymentName(req.name);               // throws bad_request with the rule as hint
 */
import { badRequest } from "./errors.ts";
import { newId } from "./ids.ts";

/** A DNS label of 1..max characters: lowercase letters, digits and '-', not at either end. */
const dnsLabel = (max: number) => new RegExp(`^[a-z0-9]([a-z0-9-]{0,${max - 2}}[a-z0-9])?$`);

// ── DNS labels and host names ──

export const DNS_LABEL = dnsLabel(63);
export const isDnsLabel = (s: string): boolean => DNS_LABEL.test(s);

export const HOST_NAME_MAX_LENGTH = 253;
/** `a.b.c`: every label a DNS label; no trailing dot. */
export function isHostName(s: string): boolean {
  return s.length <= HOST_NAME_MAX_LENGTH && s.split(".").every(isDnsLabel);
}

// ── deployment names ──

export const DEPLOYMENT_NAME = dnsLabel(40);
export const DEPLOYMENT_NAME_RULE = "1–40 lowercase letters, digits or '-', starting and ending with a letter or digit";
export const isDeploymentName = (s: string): boolean => DEPLOYMENT_NAME.test(s);

/** Returns the name when it is a valid deployment name; throws bad_request otherwise. */
export function validateDeploymentName(name: string): string {
  if (!isDeploymentName(name)) throw badRequest(`invalid name ${JSON.stringify(name.slice(0, 60))}`, `use ${DEPLOYMENT_NAME_RULE}`);
  return name;
}

const ADJECTIVES = ["amber", "brisk", "calm", "dusty", "eager", "fuzzy", "gentle", "hazy", "ivory", "jolly", "keen", "lucky", "misty", "noble", "olive", "proud", "quiet", "rapid", "sunny", "tidy"];
const NOUNS = ["otter", "falcon", "cedar", "comet", "harbor", "meadow", "pebble", "quartz", "river", "spruce", "tundra", "willow", "ember", "glacier", "lagoon", "maple"];

/** A deployment name for a deployment given none: "calm-otter-x1y2" (at most 19 characters). */
export function generateDeploymentName(): string {
  const pick = (xs: string[]) => xs[Math.floor(Math.random() * xs.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${newId(4)}`;
}

// ── workload and tenant ids ──

export const WORKLOAD_ID = dnsLabel(40);
export const WORKLOAD_ID_RULE = "1–40 lowercase letters, digits or '-', starting and ending with a letter or digit";
export const isWorkloadId = (s: string): boolean => WORKLOAD_ID.test(s);

export const TENANT_ID_MAX_LENGTH = 63;
export const TENANT_ID = dnsLabel(TENANT_ID_MAX_LENGTH);
const TENANT_ID_HINT =
  "use 1–63 characters: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. \"acme-42\")";
export const isTenantId = (s: string): boolean => TENANT_ID.test(s);

/** Returns the id when it is a valid tenant id; throws bad_request saying why not. */
export function validateTenantId(id: string): string {
  if (typeof id !== "string" || id.length === 0) throw badRequest("tenant id is empty", TENANT_ID_HINT);
  const quoted = JSON.stringify(id.length > 70 ? `${id.slice(0, 70)}…` : id);
  if (id.length > TENANT_ID_MAX_LENGTH) {
    throw badRequest(`tenant id ${quoted} is ${id.length} characters long, over ${TENANT_ID_MAX_LENGTH}`, TENANT_ID_HINT);
  }
  if (!isTenantId(id)) {
    const lower = id.toLowerCase();
    throw badRequest(`invalid tenant id ${quoted}`, lower !== id && isTenantId(lower) ? `tenant ids are lowercase: use "${lower}"` : TENANT_ID_HINT);
  }
  return id;
}

// ── pool member ids ──

/** Looser than a DNS label ('_', a trailing '-'): what a slot directory may be named. */
export const MEMBER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const isMemberId = (s: string): boolean => MEMBER_ID.test(s);

// ── environment variable names ──

/** The pattern unanchored, for parsers that embed it (`${NAME:-default}`). */
export const ENV_NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]*";
export const ENV_NAME = new RegExp(`^${ENV_NAME_PATTERN}$`);
export const ENV_NAME_RULE = "letters, digits and '_', not starting with a digit";
export const isEnvName = (s: string): boolean => ENV_NAME.test(s);

/**
 * Env names a deployment may not set. A deployment's env reaches host-side build tools that run
 * as root (railpack and buildctl get it as their process environment, for build secrets), so
 * names that change how a program is loaded, where it connects, which certificates it trusts or
 * which files and binaries it picks up are refused. Compared case-insensitively. Each entry says
 * why, for the 400's message. Allowed on purpose: NODE_OPTIONS (no host-side tool is Node) and
 * RAILPACK_* (Railpack's own build settings, applied inside the build).
 */
const FORBIDDEN_ENV: readonly [test: (upper: string) => boolean, why: string][] = [
  [(n) => n.startsWith("LD_") || n.startsWith("DYLD_") || ["GLIBC_TUNABLES", "GCONV_PATH", "LOCPATH", "NLSPATH", "HOSTALIASES", "RES_OPTIONS", "LOCALDOMAIN"].includes(n),
    "loader and C library variables change how every program starts"],
  [(n) => n.endsWith("_PROXY") || n === "NO_PROXY", "proxy variables reroute the build tools' connections"],
  [(n) => ["SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GODEBUG"].includes(n),
    "certificate variables change which servers the build tools trust"],
  [(n) => n.startsWith("GIT_") || n.startsWith("DOCKER_") || n.startsWith("BUILDKIT_"), "git, Docker and BuildKit variables change how Kiln's own tools run"],
  [(n) => ["PATH", "HOME", "TMPDIR", "XDG_CONFIG_HOME", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "IFS"].includes(n),
    "it changes which binaries, configuration or shell start-up files the build tools use"],
];

/** Why a deployment may not set env `name`, or null when it may. */
export function forbiddenEnvReason(name: string): string | null {
  const upper = name.toUpperCase();
  for (const [test, why] of FORBIDDEN_ENV) if (test(upper)) return why;
  return null;
}
export const isForbiddenEnvName = (name: string): boolean => forbiddenEnvReason(name) !== null;
export const FORBIDDEN_ENV_HINT =
  "remove it from env: Kiln's build tools run on the host with the deployment's environment. If the app needs it at run time, set it in the image (ENV in a Dockerfile)";

/** The message refusing env `name` (for the API's 400), or null when the name is allowed. */
export function forbiddenEnvMessage(name: string): string | null {
  const why = forbiddenEnvReason(name);
  return why && `env ${name} is not allowed: ${why}`;
}

/** Throws bad_request for the first forbidden name in `env`. */
export function validateDeploymentEnv(env: Record<string, string>): void {
  for (const name of Object.keys(env)) {
    const message = forbiddenEnvMessage(name);
    if (message) throw badRequest(message, FORBIDDEN_ENV_HINT);
  }
}

// ── S3 bucket names ──

export const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const S3_BUCKET_RULE = "3–63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit";
export const isS3Bucket = (s: string): boolean => S3_BUCKET.test(s);

// ── image references ──

/** A loose shape check (no spaces, no shell or Dockerfile syntax), not the full reference grammar. */
export const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/;
export const isImageRef = (s: string): boolean => IMAGE_REF.test(s);

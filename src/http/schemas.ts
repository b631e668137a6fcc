/**
 * The API's schemas: they validate requests and generate /api/v1/openapi.json.
 * The dashboard and the CLI derive their types from these (one source of truth).
 */
import { z } from "@hono/zod-openapi";
import { DEPLOYMENT_NAME, DEPLOYMENT_NAME_RULE, ENV_NAME } from "../core/names.ts";

export const ErrorBody = z
  .object({
    error: z.object({
      kind: z.string().openapi({ example: "bad_request" }),
      message: z.string().openapi({ example: "invalid name \"My App\"" }),
      hint: z.string().optional().openapi({ example: "use 1–40 lowercase letters, digits or '-'" }),
    }),
  })
  .openapi("Error");

const deploymentName = z.string().regex(DEPLOYMENT_NAME, `must be ${DEPLOYMENT_NAME_RULE}`);

const envValue = z.union([
  z.string().max(32_768),
  z
    .object({
      value: z.string().max(32_768),
      secret: z.boolean().optional().openapi({ description: "default true" }),
      buildTime: z.boolean().optional().openapi({ description: "the build needs it too: passed as a BuildKit secret; a change rebuilds" }),
    })
    .strict(),
]);

export const envSchema = z
  .record(z.string().regex(ENV_NAME, "env keys must be shell-style names (A-Z, 0-9, _)"), envValue)
  .refine((env) => Object.keys(env).length <= 200, "at most 200 env variables")
  .refine((env) => !("PORT" in env), "PORT is set by Kiln; set settings.port instead")
  .openapi({ description: "NAME: value, or NAME: {value, secret?, buildTime?}", example: { API_URL: "https://api.example.com" } });

/** Settings as users send them; every field is checked in src/core/settings.ts (parseSettingsPatch). */
export const SettingsPatchBody = z
  .record(z.string(), z.unknown())
  .openapi("SettingsPatch", {
    description:
      "any of: port, healthcheck {path, status, timeout, interval, startPeriod (seconds)}, startCommand, buildCommand, rootDir, memory (MB or \"512m\"), cpus, replicas, restartPolicy (always|on-failure|never), volumes [{name, path}], drainTimeout (seconds); null resets a field",
    example: { replicas: 2, healthcheck: { path: "/healthz" } },
  });

/** Docker's own networks are never joined: `bridge` lets containers reach every other container on it. */
const DOCKER_NETWORKS = ["bridge", "host", "none", "default"];
const networkName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, "a network name is 1–63 letters, digits, '_', '.' or '-', starting with a letter or digit")
  .refine((n) => !DOCKER_NETWORKS.includes(n), "bridge, host, none and default are Docker's own networks: name a network of your own, e.g. shared-db");
const networksSchema = z
  .array(networkName)
  .max(4, "at most 4 networks")
  .refine((ns) => new Set(ns).size === ns.length, "a network is named twice")
  .openapi({
    description: "user-named Docker networks the app joins besides Kiln's isolated one (created when absent); apps naming the same network reach each other there by deployment name",
    example: ["shared-db"],
  });

export const CreateGitDeployment = z
  .object({
    gitUrl: z.string().min(1).max(2048).openapi({ example: "https://github.com/acme/hello.git" }),
    ref: z.string().min(1).max(255).optional().openapi({ example: "main" }),
    name: deploymentName.optional().openapi({ example: "hello" }),
    env: envSchema.optional(),
    settings: SettingsPatchBody.optional(),
    gitToken: z.string().min(1).max(4096).optional().openapi({ description: "token for a private https repository; stored as a secret, never returned" }),
    networks: networksSchema.optional(),
  })
  .strict()
  .openapi("CreateGitDeployment");

export const UploadQuery = z.object({
  name: deploymentName.optional(),
  networks: z
    .string()
    .transform((list) => list.split(","))
    .pipe(networksSchema)
    .optional()
    .openapi({ description: "comma-separated user-named Docker networks the app joins (see CreateGitDeployment.networks)", example: "shared-db" }),
});

export const StepTimingView = z.object({
  name: z.enum(["source", "build", "run", "healthy", "route"]),
  startedAt: z.string(),
  durationMs: z.number().nullable(),
  ok: z.boolean().nullable(),
});

export const BuildView = z
  .object({
    id: z.string(),
    number: z.number().int(),
    status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
    builder: z.enum(["railpack", "dockerfile", "kiln"]).nullable(),
    plan: z.string().nullable().openapi({ description: "the builder's decision in one line", example: "detected: Node.js app (npm, found package-lock.json) → `npm ci --omit=dev` → start `node server.js` on port 3000" }),
    image: z.string().nullable(),
    commit: z.string().nullable(),
    steps: z.array(StepTimingView),
    durationMs: z.number().nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi("Build");

export const SettingsView = z
  .object({
    port: z.number().int().nullable(),
    healthcheck: z
      .object({ path: z.string(), status: z.number().int().nullable(), timeout: z.number(), interval: z.number(), startPeriod: z.number() })
      .nullable()
      .openapi({ description: "times in seconds" }),
    startCommand: z.string().nullable(),
    buildCommand: z.string().nullable(),
    rootDir: z.string().nullable(),
    memory: z.number().int().nullable().openapi({ description: "MB; null: Kiln's default" }),
    cpus: z.number().nullable(),
    replicas: z.number().int(),
    restartPolicy: z.enum(["always", "on-failure", "never"]),
    volumes: z.array(z.object({ name: z.string(), path: z.string() })),
    drainTimeout: z.number().openapi({ description: "seconds" }),
    previews: z.object({ enabled: z.boolean(), ttl: z.number().openapi({ description: "hours" }), max: z.number().int(), forks: z.boolean(), secrets: z.boolean() }),
  })
  .openapi("Settings");

export const ReleaseView = z
  .object({
    id: z.string(),
    number: z.number().int(),
    current: z.boolean(),
    buildId: z.string(),
    image: z.string(),
    envKeys: z.array(z.string()),
    settings: SettingsView,
    trigger: z.enum(["deploy", "redeploy", "env", "settings", "rollback"]),
    via: z.enum(["api", "cli", "dashboard", "webhook"]),
    rollbackOf: z.number().int().nullable(),
    description: z.string(),
    createdAt: z.string(),
  })
  .openapi("Release");

export const ReleaseList = z.object({ releases: z.array(ReleaseView) }).openapi("ReleaseList");

export const EnvList = z
  .object({ env: z.array(z.object({ key: z.string(), secret: z.boolean(), buildTime: z.boolean() })) })
  .openapi("EnvList", { description: "names and flags only: values are never returned" });

export const EnvPut = z.object({ env: envSchema }).strict().openapi("EnvPut");
export const EnvPatch = z
  .object({ set: envSchema.optional(), unset: z.array(z.string().max(128)).max(200).optional() })
  .strict()
  .openapi("EnvPatch");
export const RollbackBody = z
  .object({ release: z.number().int().min(1).optional().openapi({ description: "release number; default: the one before the serving one" }) })
  .strict()
  .openapi("Rollback");

export const WaitQuery = z.object({
  wait: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .openapi({ description: "answer when the new release serves (or why it did not), not when it is queued" }),
});

export const DeleteQuery = z.object({
  volumes: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .openapi({ description: "also remove the app's volumes (kept otherwise)" }),
});

export const DeploymentView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["queued", "building", "deploying", "running", "crashlooping", "failed", "stopped"]),
    url: z.string().openapi({ example: "http://hello.localhost:8080/" }),
    pathUrl: z.string().openapi({ example: "http://localhost:8080/d/abc123/" }),
    source: z.union([
      z.object({ kind: z.literal("git"), url: z.string(), ref: z.string().nullable() }),
      z.object({ kind: z.literal("tarball") }),
    ]),
    envKeys: z.array(z.string()),
    networks: z.array(z.string()),
    failureReason: z.string().nullable(),
    currentBuild: BuildView.nullable(),
    currentRelease: z.object({ id: z.string(), number: z.number().int() }).nullable(),
    settings: SettingsView,
    instances: z.number().int().openapi({ description: "containers serving (one per replica)" }),
    preview: z
      .object({ parentId: z.string(), number: z.number().int().nullable(), ref: z.string(), commit: z.string().nullable(), fork: z.boolean() })
      .nullable()
      .openapi({ description: "set for a preview deployment (a pull request's, or one made through the API)" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Deployment");


export const ChangeView = z
  .object({
    applied: z.enum(["released", "queued", "saved"]).openapi({ description: "released: serving now (wait); queued: a release is on its way; saved: for the next deploy (stopped or never deployed)" }),
    release: ReleaseView.nullable(),
    deployment: DeploymentView,
  })
  .openapi("Change");

export const DeploymentList = z.object({ deployments: z.array(DeploymentView) }).openapi("DeploymentList");
export const BuildList = z.object({ builds: z.array(BuildView) }).openapi("BuildList");
export const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "hello" }) });
export const Health = z
  .object({
    ok: z.boolean(),
    version: z.string(),
    docker: z.boolean(),
    caddy: z.boolean(),
    tenantResolver: z.boolean(),
    /** One entry per dependency that does not answer: what is down, and what to do. */
    down: z.array(z.object({ dependency: z.enum(["docker", "caddy", "tenantResolver"]), message: z.string(), hint: z.string() })),
  })
  .openapi("Health");

export const LogMessage = z
  .object({ seq: z.number().int(), ts: z.number(), stream: z.enum(["build", "runtime", "system"]), text: z.string() })
  .openapi("LogLine");

export type DeploymentViewT = z.infer<typeof DeploymentView>;
export type BuildViewT = z.infer<typeof BuildView>;
export type SettingsViewT = z.infer<typeof SettingsView>;
export type ReleaseViewT = z.infer<typeof ReleaseView>;

// ── Tenant pools ──────────────────────────────────────────────────────────────

export const TenantParam = z.object({
  tenantId: z.string().min(1).max(200).openapi({ param: { name: "tenantId", in: "path" }, example: "acme-42" }),
});

export const ClaimBody = z.object({ workload: z.string().min(1).max(64).openapi({ example: "echo" }) }).strict().openapi("ClaimRequest");

export const ClaimView = z
  .object({
    tenantId: z.string(),
    workload: z.string(),
    containerId: z.string(),
    endpoint: z.object({ url: z.string(), host: z.string(), port: z.number().int() }).nullable(),
    source: z.enum(["existing", "pool", "cold"]),
    latencyMs: z.number(),
  })
  .openapi("Claim");

export const ReleaseBody = z
  .object({ workload: z.string().min(1).max(64).optional(), sync: z.boolean().optional() })
  .strict()
  .openapi("ReleaseRequest");

export const SyncBody = z.object({ workload: z.string().min(1).max(64), direction: z.enum(["upload", "download", "both"]) }).strict().openapi("SyncRequest");

export const TenantView = z
  .object({
    tenantId: z.string(),
    workload: z.string(),
    status: z.enum(["claimed", "releasing", "release_failed", "released"]),
    containerId: z.string().nullable(),
    url: z.string().nullable(),
    lastSync: z.object({ direction: z.enum(["upload", "download"]), ok: z.boolean(), at: z.string(), error: z.string().nullable() }).nullable(),
    claimedAt: z.string().nullable(),
    releasedAt: z.string().nullable(),
    lastActiveAt: z.string().nullable(),
    /** When its container died and this Kiln gave it a new one at the same URL, and why. */
    lastReplaced: z.object({ at: z.string(), cause: z.string() }).nullable(),
  })
  .openapi("Tenant");

export const TenantList = z.object({ tenants: z.array(TenantView) }).openapi("TenantList");

export const PoolView = z
  .object({
    workload: z.string(),
    minSize: z.number().int(),
    maxSize: z.number().int(),
    idleTimeoutMs: z.number().int(),
    counts: z.object({ warming: z.number().int(), ready: z.number().int(), claimed: z.number().int(), releasing: z.number().int(), draining: z.number().int() }),
    members: z.array(
      z.object({ id: z.string(), status: z.string(), tenantId: z.string().nullable(), containerId: z.string().nullable(), current: z.boolean(), readyAt: z.string().nullable() }),
    ),
  })
  .openapi("Pool");

export const PoolList = z.object({ pools: z.array(PoolView) }).openapi("PoolList");

export const WorkloadView = z
  .object({
    id: z.string(),
    name: z.string(),
    image: z.string(),
    file: z.string(),
    port: z.number().int().nullable(),
    state: z.string().nullable(),
    secrets: z.string().nullable(),
    pool: z.object({ minSize: z.number().int(), maxSize: z.number().int(), idleTimeoutMs: z.number().int() }),
    sync: z.object({ bucket: z.string(), prefix: z.string(), onClaim: z.boolean(), onRelease: z.boolean(), manual: z.boolean(), periodicMs: z.number().nullable() }).nullable(),
  })
  .openapi("Workload");

export const WorkloadList = z.object({ workloads: z.array(WorkloadView), errors: z.array(z.object({ file: z.string(), message: z.string() })) }).openapi("WorkloadList");

/**
 * The API's schemas: they validate requests and generate /api/v1/openapi.json.
 * The dashboard and the CLI derive their types from these (one source of truth).
 */
import { z } from "@hono/zod-openapi";

export const ErrorBody = z
  .object({
    error: z.object({
      kind: z.string().openapi({ example: "bad_request" }),
      message: z.string().openapi({ example: "invalid name \"My App\"" }),
      hint: z.string().optional().openapi({ example: "use 1–40 lowercase letters, digits or '-'" }),
    }),
  })
  .openapi("Error");

const envSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env keys must be shell-style names (A-Z, 0-9, _)"), z.string().max(32_768))
  .refine((env) => Object.keys(env).length <= 200, "at most 200 env variables")
  .refine((env) => !("PORT" in env), "PORT is set by Kiln; remove it from env");

export const CreateGitDeployment = z
  .object({
    gitUrl: z.string().min(1).max(2048).openapi({ example: "https://github.com/acme/hello.git" }),
    ref: z.string().min(1).max(255).optional().openapi({ example: "main" }),
    name: z.string().min(1).max(63).optional().openapi({ example: "hello" }),
    env: envSchema.optional(),
    gitToken: z.string().min(1).max(4096).optional().openapi({ description: "token for a private https repository; stored as a secret, never returned" }),
  })
  .strict()
  .openapi("CreateGitDeployment");

export const UploadQuery = z.object({
  name: z.string().min(1).max(63).optional(),
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
    image: z.string().nullable(),
    commit: z.string().nullable(),
    steps: z.array(StepTimingView),
    durationMs: z.number().nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi("Build");

export const DeploymentView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["queued", "building", "deploying", "running", "failed", "stopped"]),
    url: z.string().openapi({ example: "http://hello.localhost:8080/" }),
    pathUrl: z.string().openapi({ example: "http://localhost:8080/d/abc123/" }),
    source: z.union([
      z.object({ kind: z.literal("git"), url: z.string(), ref: z.string().nullable() }),
      z.object({ kind: z.literal("tarball") }),
    ]),
    envKeys: z.array(z.string()),
    failureReason: z.string().nullable(),
    currentBuild: BuildView.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Deployment");

export const DeploymentList = z.object({ deployments: z.array(DeploymentView) }).openapi("DeploymentList");
export const BuildList = z.object({ builds: z.array(BuildView) }).openapi("BuildList");
export const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "hello" }) });
export const Health = z.object({ ok: z.boolean(), version: z.string(), docker: z.boolean(), caddy: z.boolean() }).openapi("Health");

export const LogMessage = z
  .object({ seq: z.number().int(), ts: z.number(), stream: z.enum(["build", "runtime", "system"]), text: z.string() })
  .openapi("LogLine");

export type DeploymentViewT = z.infer<typeof DeploymentView>;
export type BuildViewT = z.infer<typeof BuildView>;

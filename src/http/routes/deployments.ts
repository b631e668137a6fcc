/** /api/v1/deployments: create, list, inspect, redeploy, stop, delete. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { DeploymentService } from "../../deploy/service.ts";
import { validationHook } from "../errors.ts";
import { BuildList, CreateGitDeployment, DeleteQuery, DeploymentList, DeploymentView, ErrorBody, IdParam, UploadQuery } from "../schemas.ts";
import { parseEnvInput } from "../../core/env.ts";
import { badRequest } from "../../core/errors.ts";
import { applySettingsPatch, DEFAULT_SETTINGS, parseSettingsPatch } from "../../core/settings.ts";
import { viaOf } from "./via.ts";
import { receiveUpload } from "../upload.ts";
import { buildView, deploymentView, type UrlShape } from "../views.ts";
import { join } from "node:path";

const errors = {
  400: { description: "bad request", content: { "application/json": { schema: ErrorBody } } },
  401: { description: "missing or wrong token", content: { "application/json": { schema: ErrorBody } } },
  404: { description: "no such deployment", content: { "application/json": { schema: ErrorBody } } },
  409: { description: "illegal in the deployment's current state", content: { "application/json": { schema: ErrorBody } } },
} as const;

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

export interface DeploymentRoutesDeps {
  service: DeploymentService;
  urls: UrlShape;
  dataDir: string;
  maxUploadBytes: number;
}

export function deploymentRoutes(deps: DeploymentRoutesDeps) {
  const { service, urls } = deps;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const view = async (d: Awaited<ReturnType<DeploymentService["get"]>>) => deploymentView(urls, d, await service.currentBuild(d), await service.currentRelease(d));

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments",
      summary: "Deploy from a Git URL",
      request: { body: { content: { "application/json": { schema: CreateGitDeployment } }, required: true } },
      responses: { 202: json(DeploymentView, "accepted; the build is queued"), ...errors },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const d = await service.createFromGit({
        ...body,
        env: body.env ? parseEnvInput(body.env) : undefined,
        settings: body.settings ? applySettingsPatch(DEFAULT_SETTINGS, parseSettingsPatch(body.settings)) : undefined,
        via: viaOf(c),
      });
      return c.json(await view(d), 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/upload",
      summary: "Deploy from an uploaded tar or tar.gz",
      description:
        "The body is the tarball. Env and settings go in headers, as JSON: `Kiln-Env` (NAME: value, or NAME: {value, secret, buildTime}) and `Kiln-Settings` (as PATCH …/settings takes). Headers, not the query: query strings end up in access logs.",
      request: {
        query: UploadQuery,
        body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } }, required: true },
      },
      responses: { 202: json(DeploymentView, "accepted; the build is queued"), 413: json(ErrorBody, "upload too large"), ...errors },
    }),
    async (c) => {
      const { name, networks } = c.req.valid("query");
      // Checked before the body is read: a bad header costs no upload.
      const env = jsonHeader(c.req.header("kiln-env"), "Kiln-Env", parseEnvInput);
      const patch = jsonHeader(c.req.header("kiln-settings"), "Kiln-Settings", parseSettingsPatch);
      const length = c.req.header("content-length");
      const file = await receiveUpload(c.req.raw.body, join(deps.dataDir, "uploads"), deps.maxUploadBytes, length ? Number(length) : undefined);
      const d = await service.createFromUpload(file, {
        name,
        networks,
        env,
        settings: patch ? applySettingsPatch(DEFAULT_SETTINGS, patch) : undefined,
        via: viaOf(c),
      });
      return c.json(await view(d), 202);
    },
  );

  app.openapi(
    createRoute({ method: "get", path: "/deployments", summary: "List deployments", responses: { 200: json(DeploymentList, "all deployments, newest first"), 401: errors[401] } }),
    async (c) => {
      const all = await service.list();
      return c.json({ deployments: await Promise.all(all.map(view)) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: "get", path: "/deployments/{id}", summary: "A deployment, by id or name", request: { params: IdParam }, responses: { 200: json(DeploymentView, "the deployment"), ...errors } }),
    async (c) => c.json(await view(await service.get(c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({ method: "get", path: "/deployments/{id}/builds", summary: "Build history, newest first", request: { params: IdParam }, responses: { 200: json(BuildList, "builds"), ...errors } }),
    async (c) => c.json({ builds: (await service.builds(c.req.valid("param").id)).map(buildView) }, 200),
  );

  app.openapi(
    createRoute({ method: "post", path: "/deployments/{id}/redeploy", summary: "Rebuild from the same source (git: fetch the ref again)", request: { params: IdParam }, responses: { 202: json(DeploymentView, "accepted"), ...errors } }),
    async (c) => c.json(await view(await service.redeploy(c.req.valid("param").id, viaOf(c))), 202),
  );

  app.openapi(
    createRoute({ method: "post", path: "/deployments/{id}/stop", summary: "Stop: containers and route removed; history, releases and volumes kept", request: { params: IdParam }, responses: { 200: json(DeploymentView, "stopped"), ...errors } }),
    async (c) => c.json(await view(await service.stop(c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/deployments/{id}",
      summary: "Delete: containers, route, images, logs, releases and history removed; volumes only with ?volumes=true",
      request: { params: IdParam, query: DeleteQuery },
      responses: { 204: { description: "deleted" }, ...errors },
    }),
    async (c) => {
      await service.remove(c.req.valid("param").id, { volumes: c.req.valid("query").volumes });
      return c.body(null, 204);
    },
  );

  return app;
}

/** A JSON header (Kiln-Env, Kiln-Settings), parsed and checked; absent → undefined. */
function jsonHeader<T>(raw: string | undefined, name: string, parse: (v: unknown) => T): T | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest(`the ${name} header is not JSON`, `send e.g. ${name}: {"API_URL": "https://…"}`);
  }
  return parse(value);
}

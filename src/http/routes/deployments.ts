/** /api/v1/deployments: create, list, inspect, redeploy, stop, delete. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { DeploymentService } from "../../deploy/service.ts";
import { validationHook } from "../errors.ts";
import { BuildList, CreateGitDeployment, DeploymentList, DeploymentView, ErrorBody, IdParam, UploadQuery } from "../schemas.ts";
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
  const view = async (d: Awaited<ReturnType<DeploymentService["get"]>>) => deploymentView(urls, d, await service.currentBuild(d));

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
      const d = await service.createFromGit(body);
      return c.json(await view(d), 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/upload",
      summary: "Deploy from an uploaded tar or tar.gz",
      request: {
        query: UploadQuery,
        body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } }, required: true },
      },
      responses: { 202: json(DeploymentView, "accepted; the build is queued"), 413: json(ErrorBody, "upload too large"), ...errors },
    }),
    async (c) => {
      const { name, networks } = c.req.valid("query");
      const length = c.req.header("content-length");
      const file = await receiveUpload(c.req.raw.body, join(deps.dataDir, "uploads"), deps.maxUploadBytes, length ? Number(length) : undefined);
      const d = await service.createFromUpload(name, file, {}, networks);
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
    async (c) => c.json(await view(await service.redeploy(c.req.valid("param").id)), 202),
  );

  app.openapi(
    createRoute({ method: "post", path: "/deployments/{id}/stop", summary: "Stop: container and route removed, history kept", request: { params: IdParam }, responses: { 200: json(DeploymentView, "stopped"), ...errors } }),
    async (c) => c.json(await view(await service.stop(c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({ method: "delete", path: "/deployments/{id}", summary: "Delete: container, route, images, logs and history removed", request: { params: IdParam }, responses: { 204: { description: "deleted" }, ...errors } }),
    async (c) => {
      await service.remove(c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  return app;
}

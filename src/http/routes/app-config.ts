/**
 * /api/v1/deployments/:id/{releases,rollback,env,settings}: day two. Every change makes a new
 * release through the zero-downtime swap; `?wait=true` answers when it serves (or 409 with why it
 * did not, the old release still serving). Env values go in and never come out.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ChangeResult, DeploymentService } from "../../deploy/service.ts";
import { parseEnvInput } from "../../core/env.ts";
import { parseSettingsPatch } from "../../core/settings.ts";
import { validationHook } from "../errors.ts";
import { ChangeView, EnvList, EnvPatch, EnvPut, ErrorBody, IdParam, ReleaseList, RollbackBody, SettingsPatchBody, SettingsView, WaitQuery } from "../schemas.ts";
import { deploymentView, releaseView, settingsView, type UrlShape } from "../views.ts";
import { viaOf } from "./via.ts";

const errors = {
  400: { description: "bad request", content: { "application/json": { schema: ErrorBody } } },
  401: { description: "missing or wrong token", content: { "application/json": { schema: ErrorBody } } },
  404: { description: "no such deployment or release", content: { "application/json": { schema: ErrorBody } } },
  409: { description: "not possible now, or (with wait) the new release did not go live", content: { "application/json": { schema: ErrorBody } } },
} as const;

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });

export interface AppConfigRoutesDeps {
  service: DeploymentService;
  urls: UrlShape;
}

export function appConfigRoutes({ service, urls }: AppConfigRoutesDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });

  /** 200 when the release serves (waited), 202 when it is on its way or only saved. */
  const answer = async (c: Context, id: string, result: ChangeResult) => {
    const d = await service.get(id);
    const view = deploymentView(urls, d, await service.currentBuild(d), await service.currentRelease(d));
    const release = result.applied === "released" ? releaseView(result.release, d.currentReleaseId) : null;
    return c.json({ applied: result.applied, release, deployment: view }, result.applied === "released" ? 200 : 202);
  };

  app.openapi(
    createRoute({ method: "get", path: "/deployments/{id}/releases", summary: "Releases, newest first (the kept ones)", request: { params: IdParam }, responses: { 200: json(ReleaseList, "releases"), ...errors } }),
    async (c) => {
      const { deployment, releases } = await service.releases(c.req.valid("param").id);
      return c.json({ releases: releases.map((r) => releaseView(r, deployment.currentReleaseId)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/{id}/rollback",
      summary: "Serve an earlier release again (its image, env and settings), without a build",
      request: { params: IdParam, query: WaitQuery, body: { content: { "application/json": { schema: RollbackBody } }, required: false } },
      responses: { 200: json(ChangeView, "serving (wait)"), 202: json(ChangeView, "on its way"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const number = (c.req.valid("json") as { release?: number } | undefined)?.release;
      return answer(c, id, await service.rollback(id, number, { via: viaOf(c), wait: c.req.valid("query").wait }));
    },
  );

  app.openapi(
    createRoute({ method: "get", path: "/deployments/{id}/env", summary: "Env names and flags (never values)", request: { params: IdParam }, responses: { 200: json(EnvList, "env"), ...errors } }),
    async (c) => c.json({ env: await service.env(c.req.valid("param").id) }, 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/deployments/{id}/env",
      summary: "Replace the whole env; a new release applies it",
      request: { params: IdParam, query: WaitQuery, ...body(EnvPut) },
      responses: { 200: json(ChangeView, "serving (wait)"), 202: json(ChangeView, "on its way, or saved"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const env = parseEnvInput(c.req.valid("json").env);
      return answer(c, id, await service.changeEnv(id, { replace: env }, { via: viaOf(c), wait: c.req.valid("query").wait }));
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/deployments/{id}/env",
      summary: "Set and unset some variables; a new release applies it",
      request: { params: IdParam, query: WaitQuery, ...body(EnvPatch) },
      responses: { 200: json(ChangeView, "serving (wait)"), 202: json(ChangeView, "on its way, or saved"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const b = c.req.valid("json");
      const change = { set: parseEnvInput(b.set ?? {}, "set"), unset: b.unset ?? [] };
      return answer(c, id, await service.changeEnv(id, change, { via: viaOf(c), wait: c.req.valid("query").wait }));
    },
  );

  app.openapi(
    createRoute({ method: "get", path: "/deployments/{id}/settings", summary: "The app's settings", request: { params: IdParam }, responses: { 200: json(SettingsView, "settings"), ...errors } }),
    async (c) => c.json(settingsView(await service.settings(c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/deployments/{id}/settings",
      summary: "Change settings; a new release applies them (buildCommand and rootDir rebuild)",
      request: { params: IdParam, query: WaitQuery, ...body(SettingsPatchBody) },
      responses: { 200: json(ChangeView, "serving (wait)"), 202: json(ChangeView, "on its way, or saved"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const patch = parseSettingsPatch(c.req.valid("json"));
      const { result } = await service.changeSettings(id, patch, { via: viaOf(c), wait: c.req.valid("query").wait });
      return answer(c, id, result);
    },
  );

  return app;
}

/**
 * /api/v1/deployments/{id}/previews: make a preview of a ref (from any CI), list an app's previews.
 * A preview is a deployment like any other: deleted with DELETE /deployments/{id}.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { DeploymentService } from "../../deploy/service.ts";
import type { PreviewService } from "../../previews/service.ts";
import { validationHook } from "../errors.ts";
import { DeploymentView, ErrorBody, IdParam } from "../schemas.ts";
import { CreatePreview, PreviewList, PreviewUploadQuery } from "../schemas-previews.ts";
import { receiveUpload } from "../upload.ts";
import { badRequest, conflict } from "../../core/errors.ts";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { deploymentView, type UrlShape } from "../views.ts";
import { viaOf } from "./via.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const errors = {
  400: json(ErrorBody, "bad request: a bad ref, a preview of a preview, an app deployed from a tarball"),
  401: json(ErrorBody, "missing or wrong token"),
  404: json(ErrorBody, "no such deployment"),
  409: json(ErrorBody, "previews are off for the app (the hint says how to turn them on)"),
} as const;

export interface PreviewRoutesDeps {
  service: DeploymentService;
  previews: PreviewService;
  urls: UrlShape;
  dataDir: string;
  maxUploadBytes: number;
}

/** The tarball preview route streams its body under the upload cap, not the JSON one (body-limit.ts). */
export const PREVIEW_UPLOAD_PATH = /^\/api\/v1\/deployments\/[^/]+\/previews\/upload$/;

export function previewRoutes(deps: PreviewRoutesDeps) {
  const { service, previews, urls } = deps;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const view = async (d: Awaited<ReturnType<DeploymentService["get"]>>) => deploymentView(urls, d, await service.currentBuild(d), await service.currentRelease(d));

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/{id}/previews",
      summary: "Make a preview of a ref of the app's repository, at its own URL (again for the same ref: redeploy it)",
      description:
        "The preview is named <app>-<ref as a slug>, inherits the app's settings (one replica, no volumes) and its non-secret env; its secret env only with settings.previews.secrets. TTL and max apply as for pull requests.",
      request: { params: IdParam, body: { content: { "application/json": { schema: CreatePreview } }, required: true } },
      responses: { 202: json(DeploymentView, "accepted; the preview's build is queued"), ...errors },
    }),
    async (c) => {
      const parent = await service.get(c.req.valid("param").id);
      const d = await previews.fromRef(parent, c.req.valid("json").ref, viaOf(c));
      return c.json(await view(d), 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/{id}/previews/upload",
      summary: "Make a preview from a tarball (tar or tar.gz in the body), from any CI; `ref` names it",
      description: "Named <app>-<ref as a slug>; inherits the app's settings and env as a ref's preview does. Again with the same ref: the new upload replaces the old preview.",
      request: {
        params: IdParam,
        query: PreviewUploadQuery,
        body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } }, required: true },
      },
      responses: { 202: json(DeploymentView, "accepted; the preview's build is queued"), 413: json(ErrorBody, "upload too large"), ...errors },
    }),
    async (c) => {
      const parent = await service.get(c.req.valid("param").id);
      const { ref } = c.req.valid("query");
      // Checked before the body is read: a refused preview costs no upload.
      if (parent.preview) throw badRequest(`${parent.name} is itself a preview`, `make the preview of its app (${parent.preview.parentId}) instead`);
      if (!parent.settings.previews.enabled) throw conflict(`previews are off for ${parent.name}`, "PATCH settings {previews: {enabled: true}}");
      const length = c.req.header("content-length");
      const file = await receiveUpload(c.req.raw.body, join(deps.dataDir, "uploads"), deps.maxUploadBytes, length ? Number(length) : undefined);
      try {
        return c.json(await view(await previews.fromUpload(parent, file, ref, viaOf(c))), 202);
      } finally {
        await rm(file, { force: true }); // moved away when the preview was made
      }
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/deployments/{id}/previews",
      summary: "The app's previews, newest first",
      request: { params: IdParam },
      responses: { 200: json(PreviewList, "previews"), ...errors },
    }),
    async (c) => {
      const parent = await service.get(c.req.valid("param").id);
      return c.json({ previews: await Promise.all((await previews.list(parent)).map(view)) }, 200);
    },
  );

  return app;
}

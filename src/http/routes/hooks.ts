/**
 * Deploy on push over HTTP. Managed with the API token:
 *   POST   /deployments/:id/webhook → 201 {url, publicUrl, secret, …}  (again: a new secret)
 *   GET    /deployments/:id/webhook → {configured, url, publicUrl, createdAt}  (never the secret)
 *   DELETE /deployments/:id/webhook → 204
 * Received without the API token (its own secret is the credential; app.ts exempts exactly
 * isHookReceiverPath): POST /hooks/:id, also reachable through Caddy at /_kiln/hooks/:id.
 */
import { publicOrigin } from "../../core/urls.ts";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TlsConfig } from "../../config.ts";
import type { HookService } from "../../hooks/hook-service.ts";
import { validationHook } from "../errors.ts";
import { ErrorBody, IdParam } from "../schemas.ts";

export interface HookRoutesDeps {
  hooks: HookService;
  hookUrls: { publicHost: string; publicPort: number; tls: Pick<TlsConfig, "mode" | "httpsPort"> };
}

/** The receiver's path, exactly: the one /api/v1 path the API token does not guard. */
export function isHookReceiverPath(path: string): boolean {
  return /^\/api\/v1\/hooks\/[A-Za-z0-9_-]{1,64}$/.test(path);
}

/** Where the Git host should send deliveries, through Caddy's public address. */
export function publicHookUrl(u: HookRoutesDeps["hookUrls"], id: string): string {
  return `${publicOrigin(u, u.publicHost)}/_kiln/hooks/${id}`;
}

const HINTS = {
  github: "Settings → Webhooks → Add webhook: Payload URL = publicUrl, Content type = application/json, Secret = secret; events: push (and pull requests for previews)",
  gitlab: "Settings → Webhooks: URL = publicUrl, Secret token = secret; triggers: push events (and merge request events for previews)",
  gitea: "Settings → Webhooks → Add webhook → Gitea (Forgejo: Forgejo): Target URL = publicUrl, POST, application/json, Secret = secret; trigger on push (and pull requests)",
  generic: "curl -X POST -H 'Authorization: Bearer <secret>' <publicUrl>  (redeploys what the deployment tracks)",
};

const WebhookCreated = z
  .object({
    url: z.string().openapi({ description: "the receiver on the API" }),
    publicUrl: z.string().openapi({ description: "the receiver through Caddy's public address: give this one to the Git host" }),
    secret: z.string().openapi({ description: "shown only in this answer; POST again to rotate it" }),
    rotated: z.boolean(),
    createdAt: z.string(),
    hints: z.object({ github: z.string(), gitlab: z.string(), gitea: z.string(), generic: z.string() }),
  })
  .openapi("WebhookCreated");

const WebhookView = z
  .object({ configured: z.boolean(), url: z.string(), publicUrl: z.string(), createdAt: z.string().nullable() })
  .openapi("WebhookView");

const HookAnswer = z
  .object({ status: z.string().openapi({ example: "queued" }), commit: z.string().optional(), branch: z.string().optional(), why: z.string().optional(), message: z.string().optional() })
  .passthrough()
  .openapi("HookAnswer");

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const error = (description: string) => json(ErrorBody, description);

export function hookRoutes(deps: HookRoutesDeps) {
  const { hooks } = deps;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const apiUrl = (c: Context, id: string) => `${new URL(c.req.url).origin}/api/v1/hooks/${id}`;
  const iso = (ms: number) => new Date(ms).toISOString();

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/{id}/webhook",
      summary: "Create the deployment's webhook, or rotate its secret (the secret is shown only here)",
      request: { params: IdParam },
      responses: { 201: json(WebhookCreated, "the hook's URLs and secret"), 401: error("missing or wrong token"), 404: error("no such deployment") },
    }),
    async (c) => {
      const made = await hooks.create(c.req.valid("param").id);
      const id = made.deployment.id;
      return c.json({ url: apiUrl(c, id), publicUrl: publicHookUrl(deps.hookUrls, id), secret: made.secret, rotated: made.rotated, createdAt: iso(made.createdAt), hints: HINTS }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/deployments/{id}/webhook",
      summary: "Whether the deployment has a webhook, and its URLs (never the secret)",
      request: { params: IdParam },
      responses: { 200: json(WebhookView, "the hook"), 401: error("missing or wrong token"), 404: error("no such deployment") },
    }),
    async (c) => {
      const d = await hooks.describe(c.req.valid("param").id);
      const id = d.deployment.id;
      return c.json({ configured: d.configured, url: apiUrl(c, id), publicUrl: publicHookUrl(deps.hookUrls, id), createdAt: d.createdAt === null ? null : iso(d.createdAt) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/deployments/{id}/webhook",
      summary: "Remove the deployment's webhook: deliveries are then answered 404",
      request: { params: IdParam },
      responses: { 204: { description: "removed" }, 401: error("missing or wrong token"), 404: error("no such deployment, or it has no webhook") },
    }),
    async (c) => {
      await hooks.remove(c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/hooks/{id}",
      summary: "Receive a webhook delivery (GitHub, GitLab, Gitea/Forgejo, or generic Bearer): no API token, the hook's secret instead",
      description:
        "GitHub: X-Hub-Signature-256; GitLab: X-Gitlab-Token; Gitea/Forgejo: X-Gitea-Signature / X-Forgejo-Signature; any CI: Authorization: Bearer <secret>. " +
        "A push to the tracked branch builds that commit (202 queued); other branches 202 ignored; a repeated delivery id 200 duplicate; ping 200.",
      security: [],
      request: { params: IdParam },
      responses: {
        200: json(HookAnswer, "ping, or a delivery seen before"),
        202: json(HookAnswer, "queued, or ignored with why"),
        400: error("the payload is not JSON"),
        401: error("missing or wrong signature: nothing happened"),
        404: error("no webhook here"),
        409: error("generic call while a build is in progress"),
        413: error("payload over 1 MiB"),
      },
    }),
    async (c) => {
      const answer = await hooks.receive(c.req.valid("param").id, c.req.raw.headers, c.req.raw.body);
      return c.json(answer.body, answer.status);
    },
  );

  return app;
}

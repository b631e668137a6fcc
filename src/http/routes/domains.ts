/**
 * /api/v1/deployments/:id/domains: an app's own domains and their certificate state;
 * /api/v1/tls/root.pem: the internal CA's root to trust; /api/v1/tls/ask: Caddy's on-demand check
 * (no token, loopback peers only: 200 when Kiln serves the name, 404 otherwise).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getConnInfo } from "hono/bun";
import type { Context } from "hono";
import type { DomainService, DomainView as Domain } from "../../domains/domain-service.ts";
import { validationHook } from "../errors.ts";
import { ErrorBody, IdParam } from "../schemas.ts";
import { AskQuery, DomainBody, DomainList, DomainParams, DomainView } from "../schemas-domains.ts";

/** The paths that need no token (requireToken's exemptions). */
export const TLS_PUBLIC_PATHS = ["/api/v1/tls/ask"];

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const errors = { 400: err("bad request"), 401: err("missing or wrong token"), 404: err("no such deployment") } as const;

const iso = (ms: number) => new Date(ms).toISOString();
export const domainView = (d: Domain) => ({
  host: d.host,
  status: d.status,
  detail: d.detail,
  certificate: d.certificate ? { issuer: d.certificate.issuer, notAfter: iso(d.certificate.notAfter) } : null,
  url: d.url,
  createdAt: iso(d.createdAt),
});

export function domainRoutes(domains: DomainService) {
  const app = new OpenAPIHono({ defaultHook: validationHook });

  app.openapi(
    createRoute({
      method: "post",
      path: "/deployments/{id}/domains",
      summary: "Attach a domain to the app: Caddy serves it (over HTTPS with a certificate issued on demand when KILN_TLS is on)",
      request: { params: IdParam, body: { content: { "application/json": { schema: DomainBody } }, required: true } },
      responses: { 201: json(DomainView, "attached"), 409: err("the host is attached to another app"), ...errors },
    }),
    async (c) => c.json(domainView(await domains.add(c.req.valid("param").id, c.req.valid("json").host)), 201),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/deployments/{id}/domains",
      summary: "The app's domains, each with its certificate state",
      request: { params: IdParam },
      responses: { 200: json(DomainList, "the domains"), ...errors },
    }),
    async (c) => c.json({ domains: (await domains.list(c.req.valid("param").id)).map(domainView) }, 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/deployments/{id}/domains/{host}",
      summary: "Detach a domain: it answers 404 from then on",
      request: { params: DomainParams },
      responses: { 204: { description: "detached" }, 400: err("bad request"), 401: err("missing or wrong token"), 404: err("no such deployment, or the host is not attached to it") },
    }),
    async (c) => {
      const { id, host } = c.req.valid("param");
      await domains.remove(id, host);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/tls/root.pem",
      summary: "The root certificate of Caddy's internal CA (KILN_TLS=internal): trust it to verify Kiln's HTTPS",
      responses: {
        200: { description: "PEM", content: { "application/x-pem-file": { schema: z.string() } } },
        401: err("missing or wrong token"),
        404: err("KILN_TLS is not internal"),
      },
    }),
    async (c) => c.body(await domains.rootPem(), 200, { "content-type": "application/x-pem-file" }),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/tls/ask",
      summary: "Caddy's on-demand TLS check: 200 when Kiln serves the name, 404 otherwise (no token; loopback peers only)",
      security: [],
      request: { query: AskQuery },
      responses: { 200: { description: "Caddy may get a certificate" }, 400: err("no domain"), 403: err("not from loopback"), 404: err("not a name Kiln serves") },
    }),
    async (c) => {
      if (!fromLoopback(c)) return c.json({ error: { kind: "forbidden", message: "the TLS ask check answers Caddy on loopback only" } }, 403);
      const domain = c.req.valid("query").domain;
      if (await domains.allowed(domain)) return c.body(null, 200);
      // Caddy reads only the status; the body keeps the API's one error shape.
      return c.json({ error: { kind: "not_found", message: `Kiln serves no app at ${domain.slice(0, 253)}`, hint: "attach it to an app: POST /api/v1/deployments/<app>/domains" } }, 404);
    },
  );

  return app;
}

/** True when the TCP peer is a loopback address (false when unknown). */
function fromLoopback(c: Context): boolean {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    return false;
  }
  return !!address && (/^127\./.test(address) || address === "::1" || /^::ffff:127\./.test(address));
}

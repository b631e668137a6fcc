/** Schemas of /api/v1/deployments/:id/domains and /api/v1/tls (validation + OpenAPI; the CLI and dashboard derive their types). */
import { z } from "@hono/zod-openapi";

export const DomainBody = z
  .object({ host: z.string().min(1).max(253).openapi({ example: "shop.example.com" }) })
  .strict()
  .openapi("DomainBody");

export const DomainView = z
  .object({
    host: z.string().openapi({ example: "shop.example.com" }),
    status: z.enum(["http", "pending", "active", "failed"]).openapi({
      description: "http: TLS off, plain HTTP; pending: no certificate yet (issued at the first HTTPS request); active: certificate in place; failed: issuance failed (detail says why and what to do)",
    }),
    detail: z.string().openapi({ example: "no certificate yet: it is issued on demand at the first HTTPS request to https://shop.example.com/" }),
    certificate: z
      .object({ issuer: z.string(), notAfter: z.string().openapi({ description: "ISO 8601" }) })
      .nullable(),
    url: z.string().openapi({ example: "https://shop.example.com/" }),
    createdAt: z.string(),
  })
  .openapi("Domain");

export const DomainList = z.object({ domains: z.array(DomainView) }).openapi("DomainList");

export const DomainParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "hello" }),
  host: z.string().min(1).max(253).openapi({ param: { name: "host", in: "path" }, example: "shop.example.com" }),
});

export const AskQuery = z.object({ domain: z.string().min(1).max(253).openapi({ param: { name: "domain", in: "query" }, example: "shop.example.com" }) });

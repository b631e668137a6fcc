/** /api/v1/tenants, /pools, /workloads: the tenant pools. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { WorkloadSpec } from "../../core/workload.ts";
import type { PoolMember } from "../../core/pool.ts";
import type { Store } from "../../core/ports/store.ts";
import { EngineAwayError, OtherNodeError, PoolFullError, type Tenants } from "../../pools/tenants.ts";
import { FORWARDED, type ForwardedRequest } from "../forward.ts";
import type { WorkloadRegistry } from "../../pools/workload-registry.ts";
import { errorResponse, validationHook } from "../errors.ts";
import { ClaimBody, ClaimView, ErrorBody, PoolList, ReleaseBody, SyncBody, TenantList, TenantParam, WorkloadList } from "../schemas.ts";

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const errors = { 400: err("bad request"), 401: err("missing or wrong token"), 404: err("unknown tenant or workload"), 409: err("illegal now") } as const;

export interface TenantRoutesDeps {
  tenants: Tenants;
  registry: WorkloadRegistry;
  store: Store;
  /**
   * Several Kilns: hands a request a Kiln of another pools node must serve to a live Kiln of that
   * node; null when none answers.
   */
  forward?: (node: string, req: ForwardedRequest) => Promise<Response | null>;
}

export function tenantRoutes(d: TenantRoutesDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(async (e, c) => {
    if (e instanceof PoolFullError || e instanceof EngineAwayError) c.header("Retry-After", String(e.retryAfterSeconds));
    if (e instanceof OtherNodeError && d.forward && !c.req.header(FORWARDED)) {
      const url = new URL(c.req.url);
      const body = c.req.method === "GET" ? null : await c.req.text().catch(() => null);
      const headers = { authorization: c.req.header("authorization"), cookie: c.req.header("cookie"), "content-type": c.req.header("content-type") };
      const answered = await d.forward(e.node, { method: c.req.method, pathAndQuery: `${url.pathname}${url.search}`, body, headers });
      if (answered) return answered;
      return errorResponse(c, new OtherNodeError(e.node, `${e.message}, and no Kiln of that node answers now`));
    }
    return errorResponse(c, e);
  });

  app.openapi(
    createRoute({
      method: "post",
      path: "/tenants/{tenantId}/claim",
      summary: "Claim a container of a workload for a tenant (existing, from the warm pool, or cold)",
      request: { params: TenantParam, body: { content: { "application/json": { schema: ClaimBody } }, required: true } },
      responses: { 200: json(ClaimView, "the tenant's container"), 503: err("the pool is at max_size, or the container engine is restarting (Retry-After)"), ...errors },
    }),
    async (c) => c.json(await d.tenants.claim(c.req.valid("param").tenantId, c.req.valid("json").workload), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/tenants/{tenantId}/release",
      summary: "Release the tenant's container(s); state is uploaded first when the policy says so",
      request: { params: TenantParam, body: { content: { "application/json": { schema: ReleaseBody } }, required: false } },
      responses: { 200: json(z.object({ released: z.array(z.string()) }), "released"), 503: err("the state upload failed; nothing was released"), ...errors },
    }),
    async (c) => {
      const body = c.req.header("content-length") === "0" || !c.req.header("content-type") ? {} : c.req.valid("json");
      return c.json(await d.tenants.release(c.req.valid("param").tenantId, body ?? {}), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/tenants/{tenantId}/sync",
      summary: "Sync the tenant's state now (only when the workload's policy.manual is true)",
      request: { params: TenantParam, body: { content: { "application/json": { schema: SyncBody } }, required: true } },
      responses: { 200: json(z.object({ ok: z.boolean() }), "synced"), 503: err("the sync failed"), ...errors },
    }),
    async (c) => {
      const { workload, direction } = c.req.valid("json");
      await d.tenants.sync(c.req.valid("param").tenantId, workload, direction);
      return c.json({ ok: true }, 200);
    },
  );

  app.openapi(
    createRoute({ method: "get", path: "/tenants/{tenantId}/status", summary: "A tenant's claims and sync status", request: { params: TenantParam }, responses: { 200: json(TenantList, "the tenant"), ...errors } }),
    async (c) => c.json({ tenants: await d.tenants.status(c.req.valid("param").tenantId) }, 200),
  );

  app.openapi(
    createRoute({ method: "get", path: "/tenants", summary: "All tenants", responses: { 200: json(TenantList, "tenants"), 401: errors[401] } }),
    async (c) => c.json({ tenants: await d.tenants.list() }, 200),
  );

  app.openapi(
    createRoute({ method: "get", path: "/pools", summary: "Each workload's pool and its members", responses: { 200: json(PoolList, "pools"), 401: errors[401] } }),
    async (c) => {
      const members = await d.store.pools.listMembers();
      return c.json({ pools: d.registry.all().map((w) => poolView(w, members.filter((m) => m.workloadId === w.id))) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: "get", path: "/workloads", summary: "The loaded workloads, and the files that failed to load", responses: { 200: json(WorkloadList, "workloads"), 401: errors[401] } }),
    async (c) => c.json({ workloads: d.registry.all().map(workloadView), errors: d.registry.errors() }, 200),
  );

  return app;
}

function poolView(w: WorkloadSpec, members: PoolMember[]) {
  const count = (s: PoolMember["status"]) => members.filter((m) => m.status === s).length;
  return {
    workload: w.id,
    minSize: w.pool.minSize,
    maxSize: w.pool.maxSize,
    idleTimeoutMs: w.pool.idleTimeoutMs,
    counts: { warming: count("warming"), ready: count("ready"), claimed: count("claimed"), releasing: count("releasing"), draining: count("draining") },
    members: members.map((m) => ({
      id: m.id,
      status: m.status,
      tenantId: m.tenantId,
      containerId: m.containerId,
      current: m.specHash === w.hash,
      readyAt: m.readyAt ? new Date(m.readyAt).toISOString() : null,
    })),
  };
}

/** A workload as the API shows it: no secrets (sink keys are never included). */
function workloadView(w: WorkloadSpec) {
  return {
    id: w.id,
    name: w.name,
    image: w.image,
    file: w.file,
    port: w.port,
    state: w.state?.target ?? null,
    secrets: w.secrets?.target ?? null,
    pool: w.pool,
    sync: w.sync
      ? { bucket: w.sync.sink.bucket, prefix: w.sync.sink.prefix, onClaim: w.sync.policy.onClaim, onRelease: w.sync.policy.onRelease, manual: w.sync.policy.manual, periodicMs: w.sync.policy.periodicMs }
      : null,
  };
}

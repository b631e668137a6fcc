/** Schemas of GET /api/v1/deployments/:id/logs, the log search (OpenAPI; parsing: src/logs/search-query.ts). */
import { z } from "@hono/zod-openapi";
import { DEFAULT_LIMIT, LOG_STREAMS, MAX_LIMIT, MAX_Q } from "../logs/search-query.ts";
import { LogMessage } from "./schemas.ts";

const seqOrTime = (what: string) =>
  z.string().optional().openapi({ description: `${what} (inclusive): a seq (digits) or an ISO 8601 time`, example: "2026-12-01T10:00:00Z" });

export const LogSearchQuery = z.object({
  q: z.string().max(MAX_Q).optional().openapi({ description: "substring of the line's text, case-insensitive", example: "timeout" }),
  since: seqOrTime("oldest line"),
  until: seqOrTime("newest line"),
  stream: z.string().optional().openapi({ description: `comma-separated streams: ${LOG_STREAMS.join(", ")}`, example: "runtime,system" }),
  limit: z.string().optional().openapi({ description: `lines per page, 1–${MAX_LIMIT} (default ${DEFAULT_LIMIT})`, example: "100" }),
  cursor: z.string().optional().openapi({ description: "the `next` of the previous page", example: "4711" }),
});

export const LogSearchParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "hello" }),
});

export const LogSearchPage = z
  .object({
    lines: z.array(LogMessage).openapi({ description: "newest first" }),
    next: z.number().int().nullable().openapi({ description: "pass as cursor for older lines; null when nothing older can match" }),
    scanned: z.number().int().openapi({ description: "stored lines examined; a page examines at most a bounded number, so a short page with a next is not the end" }),
  })
  .openapi("LogSearchPage");

const span = {
  lines: z.number().int(),
  bytes: z.number().int().openapi({ description: "as stored (compressed)" }),
  firstSeq: z.number().int().nullable(),
  lastSeq: z.number().int().nullable(),
};

/** GET /api/v1/deployments/:id/logs/storage (routes/log-storage.ts). */
export const LogStorageBody = z
  .object({
    offload: z
      .object({
        url: z.string().nullable().openapi({ description: "KILN_LOG_OFFLOAD_URL (s3://bucket/prefix); null when offload is off", example: "s3://kiln-logs/prod" }),
        afterHours: z.number().nullable().openapi({ description: "lines older than this are offloaded" }),
      })
      .openapi({ description: "where cold lines go" }),
    hot: z.object({ chunks: z.number().int(), ...span }).openapi({ description: "lines in the database, in chunks" }),
    cold: z.object({ segments: z.number().int().openapi({ description: "one S3 object each" }), ...span }).openapi({ description: "lines offloaded to S3, read back from there" }),
  })
  .openapi("LogStorage");

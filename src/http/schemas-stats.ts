/** Schemas of GET /api/v1/deployments/:id/stats (OpenAPI): the last hour of an app's samples (src/stats/). */
import { z } from "@hono/zod-openapi";

const maybe = (description: string) => z.number().nullable().openapi({ description });

export const StatsSample = z
  .object({
    ts: z.number().int().openapi({ description: "end of the interval, ms since the epoch" }),
    cpuPercent: maybe("percent of one CPU over the interval, summed over replicas (200 = two CPUs busy)"),
    memoryBytes: maybe("memory in use without the page cache, summed over replicas"),
    memoryLimitBytes: maybe("the replicas' memory limits, summed"),
    netRxBytesPerSec: maybe("bytes received per second"),
    netTxBytesPerSec: maybe("bytes sent per second"),
    requestsPerSec: maybe("requests Caddy answered for the app, per second"),
    status: z.object({ "2xx": z.number().int(), "3xx": z.number().int(), "4xx": z.number().int(), "5xx": z.number().int() }).openapi({ description: "requests answered in the interval, by status class" }),
    latencyP50Ms: maybe("median request duration in Caddy (ms), null without requests"),
    latencyP95Ms: maybe("95th percentile request duration (ms), null without requests"),
  })
  .openapi("StatsSample");

export const StatsView = z
  .object({
    intervalSeconds: z.number().int().openapi({ example: 10 }),
    samples: z.array(StatsSample).openapi({ description: "oldest first, at most an hour" }),
  })
  .openapi("Stats");

export const StatsParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "hello" }),
});

export const StatsQuery = z.object({
  since: z.string().optional().openapi({ description: "only samples with ts greater than this (ms since the epoch, digits)", example: "1796168929000" }),
});

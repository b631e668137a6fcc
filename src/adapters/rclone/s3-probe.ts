/**
 * The fast answer to "does the sink hold anything for this tenant?": one signed S3 ListObjectsV2
 * (max-keys 1, no delimiter) over fetch — a few milliseconds, where starting rclone costs ~50–100.
 * It answers only when sure: for sinks with explicit keys and no rclone_flags (which could change
 * how rclone reaches the sink), a 200 (keys or none) or a NoSuchBucket (none). Anything else —
 * refused, redirected, unreachable, odd — is `null`, and the syncer asks rclone, whose answer
 * (or error) stands. Cancelled by the caller's signal like any request.
 *
 * signV4 is AWS Signature Version 4 for a body-less request (pure; tested against AWS's example).
 */
import { createHash, createHmac } from "node:crypto";
import type { SyncSink } from "../../core/workload.ts";
import { checkBucket, expandPrefix } from "./paths.ts";

export interface SignInput {
  method: "GET" | "HEAD";
  /** Scheme and host (with port), e.g. "https://examplebucket.s3.amazonaws.com". */
  origin: string;
  /** Already-encoded path, e.g. "/" or "/bucket". */
  path: string;
  query: Record<string, string>;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** "20130524T000000Z" */
  amzDate: string;
}

const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** The URL and headers of a SigV4-signed request without a body. */
export function signV4(i: SignInput): { url: string; headers: Record<string, string> } {
  const host = new URL(i.origin).host;
  const query = Object.keys(i.query)
    .sort()
    .map((k) => `${enc(k)}=${enc(i.query[k]!)}`)
    .join("&");
  const headers = { host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": i.amzDate };
  const signed = Object.keys(headers).sort().join(";");
  const canonical = [i.method, i.path, query, ...Object.entries(headers).sort().map(([k, v]) => `${k}:${v}`), "", signed, EMPTY_SHA256].join("\n");
  const day = i.amzDate.slice(0, 8);
  const scope = `${day}/${i.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", i.amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${i.secretAccessKey}`, day), i.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return {
    url: `${i.origin}${i.path}${query ? `?${query}` : ""}`,
    headers: {
      "x-amz-content-sha256": EMPTY_SHA256,
      "x-amz-date": i.amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${i.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
    },
  };
}

/** Whether the fast probe may answer for this sink (else rclone is asked). */
export function probeable(sink: SyncSink): boolean {
  return !!sink.accessKeyId && !!sink.secretAccessKey && sink.rcloneFlags.length === 0;
}

/** true/false when S3 said so; null when unsure (ask rclone). Throws only when `signal` aborted. */
export async function probeTenantState(sink: SyncSink, tenantId: string, signal?: AbortSignal, now = new Date()): Promise<boolean | null> {
  if (!probeable(sink)) return null;
  const region = sink.region ?? "us-east-1";
  const origin = (sink.endpoint ?? `https://s3.${region}.amazonaws.com`).replace(/\/+$/, "");
  const req = signV4({
    method: "GET",
    origin,
    path: `/${checkBucket(sink.bucket)}`,
    query: { "list-type": "2", "max-keys": "1", prefix: `${expandPrefix(sink.prefix, tenantId)}/` },
    region,
    accessKeyId: sink.accessKeyId!.reveal(),
    secretAccessKey: sink.secretAccessKey!.reveal(),
    amzDate: now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z"),
  });
  let status: number;
  let body: string;
  try {
    const res = await fetch(req.url, { headers: req.headers, signal, redirect: "manual" });
    status = res.status;
    body = (await res.text()).slice(0, 64 * 1024);
  } catch (err) {
    if (signal?.aborted) throw err;
    return null;
  }
  if (status === 200 && body.includes("<ListBucketResult")) return /<Key>/.test(body);
  if (status === 404 && body.includes("<Code>NoSuchBucket</Code>")) return false;
  return null;
}

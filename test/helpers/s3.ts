/**
 * A real S3-compatible server for tests: s3rver (devDependency), in this process, on
 * 127.0.0.1 with a free port and a fresh temp directory. Its only account is S3RVER/S3RVER.
 * Note: s3rver checks the access key id but not SigV4 signatures, so a wrong *secret* key is
 * accepted; use a wrong access key id to test refused credentials.
 *
 *   const s3 = await startS3();
 *   await s3.bucket("kiln-state");
 *   // sink: { endpoint: s3.endpoint, accessKeyId: new Secret(s3.accessKeyId), … }
 *   await s3.stop();
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  store: { putBucket(name: string): Promise<unknown> };
}
type S3rverClass = new (opts: { address: string; port: number; silent: boolean; directory: string }) => S3rverInstance;

const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;

export interface TestS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps its objects. */
  dir: string;
  /** Create a bucket (no error if it exists). */
  bucket(name: string): Promise<void>;
  /** Every object key in a bucket under `prefix`, sorted (an anonymous ListObjectsV2). */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** Stop the server (connections are refused afterwards) and delete its directory. */
  stop(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    dir,
    async bucket(name) {
      await server.store.putBucket(name);
    },
    async keys(bucket, prefix = "") {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ "list-type": "2", prefix });
        if (token) q.set("continuation-token", token);
        const res = await fetch(`${endpoint}/${bucket}?${q}`);
        const xml = await res.text();
        if (!res.ok) throw new Error(`s3rver list ${bucket}: ${res.status} ${xml.slice(0, 300)}`);
        for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unescapeXml(m[1] ?? ""));
        token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
      } while (token);
      return keys.sort();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

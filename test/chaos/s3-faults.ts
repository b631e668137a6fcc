/**
 * The S3 fault injector: a loopback proxy in front of the test S3 server that passes requests
 * through, answers every one with a 503 S3 error, or hangs (holds each request unanswered until the
 * mode changes, then answers 503). Kiln's workloads point at `endpoint` from the start, so a round
 * switches the fault on and off without restarting anything.
 * (A minimal one of the suite's own; test/helpers/s3-proxy.ts may replace it when it exists.)
 */
export type S3Mode = "pass" | "error" | "hang";

export interface S3Faults {
  endpoint: string;
  /** `errorStatus` (with "error"): 503 SlowDown-like and retried by rclone, or 403 AccessDenied and not retried. */
  set(mode: S3Mode, errorStatus?: 403 | 503): void;
  /** Requests answered with an error or held, since the start. */
  readonly faulted: number;
  stop(): Promise<void>;
}

const errorXml = (code: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>chaos: injected fault</Message></Error>`;
const DROP = new Set(["connection", "content-length", "transfer-encoding", "keep-alive"]);

export async function startS3Faults(upstream: string): Promise<S3Faults> {
  let mode: S3Mode = "pass";
  let faulted = 0;
  let status: 403 | 503 = 503;
  let released: () => void = () => {};
  let unhang = new Promise<void>((r) => (released = r));
  const error = () => new Response(errorXml(status === 403 ? "AccessDenied" : "ServiceUnavailable"), { status, headers: { "content-type": "application/xml" } });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      if (mode === "error") return (faulted++, error());
      if (mode === "hang") {
        faulted++;
        await unhang;
        return error();
      }
      const url = new URL(req.url);
      const headers = new Headers([...req.headers].filter(([k]) => !DROP.has(k.toLowerCase()) && k.toLowerCase() !== "host"));
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(`${upstream}${url.pathname}${url.search}`, { method: req.method, headers, body, redirect: "manual", decompress: false } as RequestInit);
      // a HEAD's content-length is the object's size, which rclone reads
      const out = new Headers([...res.headers].filter(([k]) => !DROP.has(k.toLowerCase()) || (req.method === "HEAD" && k.toLowerCase() === "content-length")));
      return new Response(req.method === "HEAD" ? null : await res.arrayBuffer(), { status: res.status, headers: out });
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    set(next, errorStatus = 503) {
      status = errorStatus;
      if (mode === "hang" && next !== "hang") {
        released();
        unhang = new Promise<void>((r) => (released = r));
      }
      mode = next;
    },
    get faulted() {
      return faulted;
    },
    async stop() {
      released();
      server.stop(true);
    },
  };
}

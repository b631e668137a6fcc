/**
 * One HTTP/1.1 request over a plain TCP connection, with the request target sent exactly as
 * given (fetch would normalize "..", "%2e%2e" and the like away). Loopback only.
 */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export async function rawRequest(port: number, req: { method: string; path: string; headers: Record<string, string>; body?: string | Uint8Array }): Promise<RawAnswer> {
  const body = typeof req.body === "string" ? new TextEncoder().encode(req.body) : (req.body ?? new Uint8Array(0));
  const head = [`${req.method} ${req.path} HTTP/1.1`, `host: 127.0.0.1:${port}`, "connection: close", `content-length: ${body.length}`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`)].join("\r\n");
  const chunks: Uint8Array[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no complete answer to ${req.method} ${req.path.slice(0, 80)} within 30 s`)), 30_000);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(new TextEncoder().encode(`${head}\r\n\r\n`));
          if (body.length) s.write(body);
          s.flush();
        },
        data(_s, d) {
          chunks.push(new Uint8Array(d));
        },
        close() {
          clearTimeout(timer);
          resolve();
        },
        error(_s, err) {
          clearTimeout(timer);
          reject(err);
        },
      },
    }).catch((err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return parseAnswer(Buffer.concat(chunks));
}

function parseAnswer(raw: Buffer): RawAnswer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`not an HTTP answer: ${JSON.stringify(raw.subarray(0, 200).toString())}`);
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!status) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(body);
  return { status, headers, body: body.toString("utf8") };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!size) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/**
 * A BuildKit session on the Docker engine, so an image build can read build-time secrets
 * (`RUN --mount=type=secret,id=NAME`) without them ever being build args, layers or history.
 *
 * `POST /session` on the engine's unix socket upgrades the connection (101, `Upgrade: h2c`);
 * from then on dockerd speaks HTTP/2 over it as the *client* and Kiln answers as the gRPC
 * server: `moby.buildkit.secrets.v1.Secrets/GetSecret` and `grpc.health.v1.Health/Check`. A build
 * names the session with `POST /build?session=<id>`. Secret values only ever go into gRPC
 * response bodies: never into logs or errors.
 *
 * The pure parts (upgrade request/response, gRPC framing, the few protobuf messages) are
 * exported for the unit tests.
 */
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import { unavailable } from "../../core/errors.ts";
import type { Secret } from "../../core/secret.ts";
import { fields, utf8 } from "../../formats/protobuf-wire.ts";
import { concatBytes } from "../../formats/tar/bytes.ts";

export const GET_SECRET = "/moby.buildkit.secrets.v1.Secrets/GetSecret";
export const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;
const GRPC_OK = 0;
const GRPC_NOT_FOUND = 5;
const GRPC_UNIMPLEMENTED = 12;
/** Largest upgrade response head Kiln reads before giving up. */
const MAX_HEAD = 64 * 1024;

export interface BuildSession {
  /** Pass as `session=<id>` to POST /build. */
  readonly id: string;
  /** End the session (idempotent); resolves when the connection is closed. */
  close(): Promise<void>;
}

export interface BuildSessionOptions {
  socketPath: string;
  secrets: Record<string, Secret>;
  /** Engine API version prefix (default v1.41). */
  apiVersion?: string;
  /** How long the upgrade may take (default 10 s). */
  timeoutMs?: number;
}

/** Open a session serving `secrets` by name; resolves once dockerd has answered 101. */
export async function openBuildSession({ socketPath, secrets, apiVersion = "v1.41", timeoutMs = 10_000 }: BuildSessionOptions): Promise<BuildSession> {
  const id = randomId();
  const request = upgradeRequest({ apiVersion, id, name: "kiln", sharedKey: randomId(), methods: [GET_SECRET, HEALTH_CHECK] });
  const socket = net.createConnection(socketPath);
  let rest: Uint8Array;
  try {
    rest = await readUpgrade(socket, socketPath, request, timeoutMs);
  } catch (err) {
    socket.destroy();
    throw err;
  }

  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {}); // dockerd going away mid-build ends the session; the build reports it
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => serveStream(stream, String(headers[":path"] ?? ""), secrets));
  server.on("error", () => {});
  server.emit("connection", upgradedStream(socket, rest));

  let closing: Promise<void> | null = null;
  return {
    id,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once("close", () => resolve());
        for (const s of sessions) s.destroy();
        socket.destroy();
        setTimeout(resolve, 1000).unref?.(); // bounded: never hang a build's end on a close event
      });
      return closing;
    },
  };
}

/**
 * The upgraded connection as a stream that starts with `rest` (the bytes read past the 101
 * head). Bun's http2 server does not see bytes put back with socket.unshift, so it is given
 * this wrapper instead of the socket.
 */
function upgradedStream(socket: net.Socket, rest: Uint8Array): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  if (rest.length > 0) stream.push(Buffer.from(rest));
  socket.on("data", (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on("end", () => stream.push(null));
  socket.on("error", () => {});
  socket.on("close", () => stream.destroy());
  socket.resume();
  return stream;
}

/** Answer one gRPC call on `stream`. */
function serveStream(stream: http2.ServerHttp2Stream, path: string, secrets: Record<string, Secret>): void {
  stream.on("error", () => {});
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    const reply = grpcReply(path, Buffer.concat(chunks), secrets);
    if (stream.destroyed || stream.closed) return;
    if (reply.status !== GRPC_OK || !reply.message) {
      // Trailers-only response.
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(reply.status), "grpc-message": grpcMessageHeader(reply.error ?? "") }, { endStream: true });
      return;
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(grpcFrame(reply.message));
  });
}

export interface GrpcReply {
  status: number;
  message?: Uint8Array;
  /** grpc-message: never holds a secret value. */
  error?: string;
}

/** What to answer a call of `path` whose request body (gRPC-framed) is `body`. */
export function grpcReply(path: string, body: Uint8Array, secrets: Record<string, Secret>): GrpcReply {
  if (path === HEALTH_CHECK) return { status: GRPC_OK, message: encodeHealthCheckResponse(SERVING) };
  if (path !== GET_SECRET) return { status: GRPC_UNIMPLEMENTED, error: `${path} is not served by this session` };
  let id: string;
  try {
    const [msg] = grpcMessages(body);
    id = decodeGetSecretRequest(msg ?? new Uint8Array()).id;
  } catch {
    return { status: 3 /* INVALID_ARGUMENT */, error: "malformed GetSecretRequest" };
  }
  const secret = Object.hasOwn(secrets, id) ? secrets[id] : undefined;
  if (!secret) return { status: GRPC_NOT_FOUND, error: `secret ${id} not found` };
  return { status: GRPC_OK, message: encodeGetSecretResponse(new TextEncoder().encode(secret.reveal())) };
}

// ——— the HTTP/1.1 upgrade ———

/** The `POST /session` upgrade request, as bytes to write on the socket. */
export function upgradeRequest(o: { apiVersion: string; id: string; name: string; sharedKey: string; methods: string[] }): string {
  const lines = [
    `POST /${o.apiVersion}/session HTTP/1.1`,
    "Host: docker",
    "Content-Length: 0",
    "Connection: Upgrade",
    "Upgrade: h2c",
    `X-Docker-Expose-Session-Uuid: ${o.id}`,
    `X-Docker-Expose-Session-Name: ${o.name}`,
    `X-Docker-Expose-Session-Sharedkey: ${o.sharedKey}`,
    ...o.methods.map((m) => `X-Docker-Expose-Session-Grpc-Method: ${m}`),
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

export interface UpgradeResponse {
  status: number;
  headers: Record<string, string>;
  /** Bytes after the header block: the start of the HTTP/2 stream (101) or of the body. */
  rest: Uint8Array;
}

/** Parse an HTTP/1.1 response head from `buf`; null while the head is incomplete. */
export function parseUpgradeResponse(buf: Uint8Array): UpgradeResponse | null {
  const end = indexOfCrlfCrlf(buf);
  if (end < 0) return null;
  const head = new TextDecoder("latin1").decode(buf.subarray(0, end));
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(m[1]), headers, rest: buf.subarray(end + 4) };
}

/** The message of a refused upgrade: the engine's JSON `message`, else the body text. */
export function refusalMessage(res: UpgradeResponse, body: Uint8Array): string {
  let text = new TextDecoder().decode(body);
  if (/chunked/i.test(res.headers["transfer-encoding"] ?? "")) text = dechunk(text);
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON
  }
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return plain.slice(0, 300) || `HTTP ${res.status}`;
}

function dechunk(text: string): string {
  let out = "";
  let pos = 0;
  for (let i = 0; i < 1000 && pos < text.length; i++) {
    const eol = text.indexOf("\r\n", pos);
    if (eol < 0) break;
    const size = parseInt(text.slice(pos, eol), 16);
    if (!(size > 0)) break;
    out += text.slice(eol + 2, eol + 2 + size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

function indexOfCrlfCrlf(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** Write the upgrade request and read until the head is in; the bytes after a 101 head. */
function readUpgrade(socket: net.Socket, socketPath: string, request: string, timeoutMs: number): Promise<Uint8Array> {
  const where = `the Docker socket ${socketPath}`;
  const fail = (what: string, hint = "check that dockerd (20.10 or newer, BuildKit on) answers on Kiln's Docker socket (KILN_DOCKER_SOCKET)") =>
    unavailable(`cannot open a BuildKit session for the build's secrets on ${where}: ${what}`, hint);
  return new Promise<Uint8Array>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let head: UpgradeResponse | null = null;
    const done = (err: Error | null, rest?: Uint8Array) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("end", onEnd);
      socket.off("connect", onConnect);
      if (err) reject(err);
      else resolve(rest!);
    };
    const refused = () => {
      const h = head!;
      const msg = refusalMessage(h, h.rest);
      const proxy = h.status === 403 || h.status === 404 || h.status === 405;
      done(
        fail(
          `HTTP ${h.status}: ${msg}`,
          proxy
            ? "allow POST /session (an upgrade to h2c) in the proxy in front of the Docker socket, or build without build-time secrets"
            : undefined,
        ),
      );
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (head) {
        head = parseUpgradeResponse(buf)!;
        const want = Number(head.headers["content-length"] ?? NaN);
        if (Number.isFinite(want) && head.rest.length >= want) refused();
        return;
      }
      let parsed: UpgradeResponse | null;
      try {
        parsed = parseUpgradeResponse(buf);
      } catch (err) {
        return done(fail((err as Error).message));
      }
      if (!parsed) {
        if (buf.length > MAX_HEAD) done(fail("the answer's head is too long"));
        return;
      }
      if (parsed.status === 101) {
        socket.pause();
        return done(null, new Uint8Array(parsed.rest));
      }
      head = parsed;
      const want = Number(head.headers["content-length"] ?? NaN);
      if (Number.isFinite(want) && head.rest.length >= want) refused();
      else setTimeout(() => head && refused(), 1000).unref?.(); // a body that does not say its length
    };
    const onError = (err: Error) => done(fail(err.message));
    const onEnd = () => (head ? refused() : done(fail("the engine closed the connection")));
    const onConnect = () => socket.write(request);
    const timer = setTimeout(() => {
      socket.destroy();
      done(fail(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.on("connect", onConnect);
  });
}

// ——— gRPC framing and the protobuf messages ———

/** One gRPC message: 0 (uncompressed), 4-byte big-endian length, the protobuf bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** The messages of a gRPC body (several frames may follow each other). Throws on a truncated or compressed frame. */
export function grpcMessages(body: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let pos = 0;
  while (pos < body.length) {
    if (pos + 5 > body.length) throw new Error("grpc: truncated frame header");
    if (body[pos] !== 0) throw new Error("grpc: compressed messages are not supported");
    const len = view.getUint32(pos + 1);
    if (pos + 5 + len > body.length) throw new Error("grpc: truncated message");
    out.push(body.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  return out;
}

/** GetSecretRequest { string ID = 1; map<string,string> annotations = 2 } → its ID. */
export function decodeGetSecretRequest(msg: Uint8Array): { id: string } {
  let id = "";
  for (const f of fields(msg)) if (f.no === 1 && f.wire === "bytes") id = utf8(f.bytes);
  return { id };
}

/** GetSecretResponse { bytes data = 1 } */
export function encodeGetSecretResponse(data: Uint8Array): Uint8Array {
  return data.length === 0 ? new Uint8Array() : concatBytes([varint((1 << 3) | 2), varint(data.length), data]);
}

/** HealthCheckResponse { ServingStatus status = 1 } */
export function encodeHealthCheckResponse(status: number): Uint8Array {
  return concatBytes([varint((1 << 3) | 0), varint(status)]);
}

export function varint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** grpc-message is percent-encoded outside printable ASCII (and `%` itself). */
export function grpcMessageHeader(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** 25 lowercase base-36 characters, like BuildKit's identity.NewID. */
function randomId(): string {
  const bytes = randomBytes(25);
  let s = "";
  for (const b of bytes) s += "0123456789abcdefghijklmnopqrstuvwxyz"[b % 36];
  return s;
}

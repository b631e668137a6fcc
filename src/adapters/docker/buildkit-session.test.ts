import { afterEach, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret } from "../../core/secret.ts";
import { fields, utf8 } from "../../formats/protobuf-wire.ts";
import {
  GET_SECRET,
  HEALTH_CHECK,
  decodeGetSecretRequest,
  encodeGetSecretResponse,
  encodeHealthCheckResponse,
  grpcFrame,
  grpcMessageHeader,
  grpcMessages,
  grpcReply,
  openBuildSession,
  parseUpgradeResponse,
  refusalMessage,
  upgradeRequest,
  varint,
} from "./buildkit-session.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** GetSecretRequest { ID = 1; annotations = 2 (map entry: key 1, value 2) }, encoded by hand. */
function getSecretRequest(id: string, annotations: Record<string, string> = {}): Uint8Array {
  const field = (no: number, bytes: Uint8Array) => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
  const out = [...field(1, enc(id))];
  for (const [k, v] of Object.entries(annotations)) out.push(...field(2, Uint8Array.from([...field(1, enc(k)), ...field(2, enc(v))])));
  return Uint8Array.from(out);
}

describe("upgrade request and response", () => {
  test("the request asks for h2c and names the session and each gRPC method it serves", () => {
    const text = upgradeRequest({ apiVersion: "v1.41", id: "sid", name: "kiln", sharedKey: "key", methods: [GET_SECRET, HEALTH_CHECK] });
    expect(text.split("\r\n")).toEqual([
      "POST /v1.41/session HTTP/1.1",
      "Host: docker",
      "Content-Length: 0",
      "Connection: Upgrade",
      "Upgrade: h2c",
      "X-Docker-Expose-Session-Uuid: sid",
      "X-Docker-Expose-Session-Name: kiln",
      "X-Docker-Expose-Session-Sharedkey: key",
      "X-Docker-Expose-Session-Grpc-Method: /moby.buildkit.secrets.v1.Secrets/GetSecret",
      "X-Docker-Expose-Session-Grpc-Method: /grpc.health.v1.Health/Check",
      "",
      "",
    ]);
  });

  test("an incomplete head is null; a 101 hands back the bytes after the head", () => {
    const head = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    expect(parseUpgradeResponse(enc(head.slice(0, -2)))).toBeNull();
    const res = parseUpgradeResponse(enc(`${head}PRI * HTTP/2.0`))!;
    expect(res.status).toBe(101);
    expect(res.headers.upgrade).toBe("h2c");
    expect(dec(res.rest)).toBe("PRI * HTTP/2.0");
  });

  test("a refusal's message: the engine's JSON message, a chunked body, an HTML page", () => {
    const json = parseUpgradeResponse(enc('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{"message":"page missing"}'))!;
    expect(refusalMessage(json, json.rest)).toBe("page missing");
    const chunked = parseUpgradeResponse(enc('HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mes\r\n11\r\nsage":"bad one"}\r\n0\r\n\r\n'))!;
    expect(refusalMessage(chunked, chunked.rest)).toBe("bad one");
    const html = parseUpgradeResponse(enc("HTTP/1.0 403 Forbidden\r\n\r\n<html><body><h1>403 Forbidden</h1></body></html>"))!;
    expect(refusalMessage(html, html.rest)).toBe("403 Forbidden");
  });

  test("a non-HTTP answer is an error", () => {
    expect(() => parseUpgradeResponse(enc("SSH-2.0-OpenSSH\r\n\r\n"))).toThrow("not an HTTP response");
  });
});

describe("gRPC framing and messages", () => {
  test("a frame is flag 0, a big-endian length and the message; several frames split back", () => {
    const frame = grpcFrame(Uint8Array.from([1, 2, 3]));
    expect([...frame]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
    const big = new Uint8Array(70_000).fill(7);
    const both = Uint8Array.from([...grpcFrame(big), ...frame]);
    expect([...both.subarray(0, 5)]).toEqual([0, 0, 1, 0x11, 0x70]);
    expect(grpcMessages(both).map((m) => m.length)).toEqual([70_000, 3]);
    expect(grpcMessages(new Uint8Array())).toEqual([]);
  });

  test("truncated or compressed frames are refused", () => {
    expect(() => grpcMessages(Uint8Array.from([0, 0, 0]))).toThrow("truncated");
    expect(() => grpcMessages(Uint8Array.from([0, 0, 0, 0, 5, 1]))).toThrow("truncated");
    expect(() => grpcMessages(Uint8Array.from([1, 0, 0, 0, 0]))).toThrow("compressed");
  });

  test("GetSecretRequest: the ID, annotations ignored", () => {
    expect(decodeGetSecretRequest(getSecretRequest("API_TOKEN", { a: "b" }))).toEqual({ id: "API_TOKEN" });
    expect(decodeGetSecretRequest(new Uint8Array())).toEqual({ id: "" });
  });

  test("GetSecretResponse: data as field 1 (bytes), long values included", () => {
    const value = "x".repeat(300);
    const [f, ...more] = [...fields(encodeGetSecretResponse(enc(value)))];
    expect(more).toEqual([]);
    expect(f!.no).toBe(1);
    expect(f!.wire === "bytes" && utf8(f!.bytes)).toBe(value);
    expect(encodeGetSecretResponse(new Uint8Array()).length).toBe(0); // proto3: an empty field is left out
  });

  test("HealthCheckResponse: status SERVING (1) as field 1", () => {
    expect([...encodeHealthCheckResponse(1)]).toEqual([0x08, 0x01]);
  });

  test("varint", () => {
    expect([...varint(0)]).toEqual([0]);
    expect([...varint(300)]).toEqual([0xac, 0x02]);
    expect([...varint(2 ** 32)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
  });

  test("grpc-message is percent-encoded outside printable ASCII", () => {
    expect(grpcMessageHeader("secret é 100%")).toBe("secret %C3%A9 100%25");
  });
});

describe("grpcReply", () => {
  const secrets = { API_TOKEN: new Secret("tok-value") };

  test("a known secret: its value in the message", () => {
    const reply = grpcReply(GET_SECRET, grpcFrame(getSecretRequest("API_TOKEN")), secrets);
    expect(reply.status).toBe(0);
    expect(dec(reply.message!)).toContain("tok-value");
  });

  test("an unknown secret: NOT_FOUND naming the id; inherited object keys are not secrets", () => {
    expect(grpcReply(GET_SECRET, grpcFrame(getSecretRequest("OTHER")), secrets)).toEqual({ status: 5, error: "secret OTHER not found" });
    expect(grpcReply(GET_SECRET, grpcFrame(getSecretRequest("constructor")), secrets).status).toBe(5);
  });

  test("health check: SERVING; other methods: UNIMPLEMENTED; a malformed request: INVALID_ARGUMENT", () => {
    expect(grpcReply(HEALTH_CHECK, grpcFrame(new Uint8Array()), secrets)).toEqual({ status: 0, message: encodeHealthCheckResponse(1) });
    expect(grpcReply("/moby.filesync.v1.Auth/Credentials", new Uint8Array(), secrets).status).toBe(12);
    const bad = grpcReply(GET_SECRET, Uint8Array.from([0, 0, 0, 0, 9]), secrets);
    expect(bad.status).toBe(3);
    expect(JSON.stringify(bad)).not.toContain("tok-value");
  });
});

describe("openBuildSession against a stand-in engine on a unix socket", () => {
  let dir = "";
  let server: net.Server | null = null;
  afterEach(() => {
    server?.close();
    server = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A socket server answering the first request head with `answer`; returns its path and the heads it got. */
  async function standIn(answer: (socket: net.Socket) => void): Promise<{ path: string; heads: string[] }> {
    dir = mkdtempSync(join(tmpdir(), "kiln-bks-"));
    const path = join(dir, "docker.sock");
    const heads: string[] = [];
    server = net.createServer((socket) => {
      let buf = "";
      const onData = (c: Buffer) => {
        buf += c.toString("latin1");
        if (!buf.includes("\r\n\r\n")) return;
        socket.off("data", onData);
        heads.push(buf);
        answer(socket);
      };
      socket.on("data", onData);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server!.listen(path, resolve));
    return { path, heads };
  }

  test("upgrades, then answers the engine's HTTP/2 gRPC calls: health, a secret, a missing secret", async () => {
    const calls: Promise<{ status: string; body: Uint8Array; trailers: Record<string, unknown> }>[] = [];
    let client: http2.ClientHttp2Session | null = null;
    const called = Promise.withResolvers<void>();
    const { path, heads } = await standIn((socket) => {
      socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
      // The engine is the HTTP/2 client on the upgraded connection.
      client = http2.connect("http://session", { createConnection: () => socket });
      client.on("error", () => {});
      const call = (path: string, body: Uint8Array) =>
        new Promise<{ status: string; body: Uint8Array; trailers: Record<string, unknown> }>((resolve, reject) => {
          const req = client!.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
          const chunks: Buffer[] = [];
          let status = "";
          let trailers: Record<string, unknown> = {};
          req.on("response", (h) => {
            status = String(h[":status"]);
            if (h["grpc-status"] !== undefined) trailers = h; // trailers-only
          });
          req.on("trailers", (t) => (trailers = t));
          req.on("data", (c: Buffer) => chunks.push(c));
          req.on("end", () => resolve({ status, body: Buffer.concat(chunks), trailers }));
          req.on("error", reject);
          req.end(body);
        });
      calls.push(call(HEALTH_CHECK, grpcFrame(new Uint8Array())));
      calls.push(call(GET_SECRET, grpcFrame(getSecretRequest("API_TOKEN"))));
      calls.push(call(GET_SECRET, grpcFrame(getSecretRequest("NOPE"))));
      called.resolve();
    });
    const session = await openBuildSession({ socketPath: path, secrets: { API_TOKEN: new Secret("tok-value\n") }, apiVersion: "v1.41" });
    try {
      expect(session.id).toMatch(/^[0-9a-z]{25}$/);
      expect(heads[0]).toContain(`X-Docker-Expose-Session-Uuid: ${session.id}\r\n`);
      await called.promise;
      const [health, secret, missing] = await Promise.all(calls);
      expect(health!.trailers["grpc-status"]).toBe("0");
      expect([...grpcMessages(health!.body)[0]!]).toEqual([0x08, 0x01]);
      expect(secret!.status).toBe("200");
      expect(secret!.trailers["grpc-status"]).toBe("0");
      const [f] = [...fields(grpcMessages(secret!.body)[0]!)];
      expect(f!.wire === "bytes" && utf8(f!.bytes)).toBe("tok-value\n");
      expect(missing!.trailers["grpc-status"]).toBe("5");
      expect(missing!.trailers["grpc-message"]).toBe("secret NOPE not found");
    } finally {
      (client as http2.ClientHttp2Session | null)?.destroy();
      await session.close();
      await session.close(); // idempotent
    }
  });

  test("a refused upgrade says what the engine said and what to allow, without any secret value", async () => {
    const { path } = await standIn((socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{"message":"not allowed"}');
    });
    const err = await openBuildSession({ socketPath: path, secrets: { T: new Secret("tok-value") } }).catch((e: Error & { hint?: string }) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`on the Docker socket ${path}: HTTP 403: not allowed`);
    expect(JSON.stringify(err) + String((err as Error).message)).not.toContain("tok-value");
  });

  test("no socket: an error naming it", async () => {
    await expect(openBuildSession({ socketPath: "/nonexistent/docker.sock", secrets: {} })).rejects.toThrow("/nonexistent/docker.sock");
  });

  test("no answer: bounded by timeoutMs", async () => {
    const { path } = await standIn(() => {});
    const started = Date.now();
    await expect(openBuildSession({ socketPath: path, secrets: {}, timeoutMs: 200 })).rejects.toThrow("no answer within 200 ms");
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

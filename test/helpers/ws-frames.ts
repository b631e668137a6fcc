/**
 * Log stream clients for tests: a v2 reader that collects frames, and a raw WebSocket client that
 * does not read at all until told to (a python3 process holding the socket), for slow-reader cuts.
 */
import type { LogLine } from "../../src/core/logs.ts";
import type { LogFrame } from "../../src/http/log-frames.ts";

export interface Collected {
  frames: LogFrame[];
  lines: LogLine[];
  closeCode: number;
}

/** Connects with v=2 and collects frames until `until` holds (then closes) or the server closes. */
export function collectFrames(url: string, until: (c: Collected) => boolean, timeoutMs = 60_000): Promise<Collected> {
  const c: Collected = { frames: [], lines: [], closeCode: 0 };
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`frames: condition not met after ${c.frames.length} frames, ${c.lines.length} lines`));
    }, timeoutMs);
    ws.onmessage = (ev) => {
      const frame = JSON.parse(String(ev.data)) as LogFrame;
      c.frames.push(frame);
      if (frame.type === "lines") c.lines.push(...frame.lines);
      if (until(c)) {
        clearTimeout(timer);
        ws.close();
        resolve(c);
      }
    };
    ws.onclose = (ev) => {
      clearTimeout(timer);
      c.closeCode = ev.code;
      resolve(c);
    };
  });
}

/** Server→client WebSocket frames (unmasked) in raw bytes: text payloads and the close code. */
export function parseRawFrames(buf: Uint8Array): { texts: string[]; closeCode: number | null } {
  const texts: string[] = [];
  let closeCode: number | null = null;
  let at = 0;
  let partial = "";
  const dec = new TextDecoder();
  while (at + 2 <= buf.length) {
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      len = (buf[at + 2]! << 8) | buf[at + 3]!;
      head = 4;
    } else if (len === 127) {
      len = Number(new DataView(buf.buffer, buf.byteOffset + at + 2, 8).getBigUint64(0));
      head = 10;
    }
    if (at + head + len > buf.length) break;
    const payload = buf.subarray(at + head, at + head + len);
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (opcode === 1 || opcode === 0) {
      partial += dec.decode(payload);
      if (fin) {
        texts.push(partial);
        partial = "";
      }
    } else if (opcode === 8) closeCode = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
    at += head + len;
  }
  return { texts, closeCode };
}

const NON_READER = `
import socket, sys, base64, os
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: {host}:{port}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: {key}\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n".encode())
head = b""
while b"\\r\\n\\r\\n" not in head:
    head += s.recv(1)
sys.stderr.write(head.split(b"\\r\\n")[0].decode() + "\\n"); sys.stderr.flush()
sys.stdin.readline()  # hold: read nothing until told
out = sys.stdout.buffer
while True:
    chunk = s.recv(1 << 20)
    if not chunk: break
    out.write(chunk)
out.flush()
`;

/** A WebSocket client that completes the handshake, then reads nothing until `drain()`. */
export async function nonReadingClient(host: string, port: number, path: string) {
  const proc = Bun.spawn(["/usr/bin/python3.11", "-c", NON_READER, host, String(port), path], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stderr.getReader();
  let status = "";
  while (!status.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`non-reading client ended: ${status}`);
    status += new TextDecoder().decode(value);
  }
  if (!status.startsWith("HTTP/1.1 101")) throw new Error(`handshake refused: ${status}`);
  return {
    /** Read everything until the server closes the connection; the raw bytes. */
    async drain(): Promise<Uint8Array> {
      proc.stdin.write("go\n");
      await proc.stdin.end();
      const bytes = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
      await proc.exited;
      return bytes;
    },
    kill: () => proc.kill(),
  };
}

const GATED_PROXY = `
import socket, sys, threading
up_host, up_port = sys.argv[1], int(sys.argv[2])
gate = threading.Event(); gate.set()
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(16)
print(srv.getsockname()[1], flush=True)
def pipe(src, dst, gated):
    try:
        while True:
            if gated: gate.wait()
            data = src.recv(65536)
            if not data: break
            dst.sendall(data)
    except OSError: pass
    for s in (src, dst):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve():
    while True:
        down, _ = srv.accept()
        up = socket.create_connection((up_host, up_port))
        up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        threading.Thread(target=pipe, args=(down, up, False), daemon=True).start()
        threading.Thread(target=pipe, args=(up, down, True), daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
for line in sys.stdin:
    (gate.clear if line.strip() == "hold" else gate.set)()
    print("ok", flush=True)
`;

/**
 * A TCP proxy to `host:port` whose server→client direction can be held: while held it reads
 * nothing from the server, so the server sees a reader that does not read (Bun's own WebSocket
 * client reads on a separate thread, so it never looks slow by itself).
 */
export async function gatedProxy(host: string, port: number) {
  const proc = Bun.spawn(["/usr/bin/python3.11", "-u", "-c", GATED_PROXY, host, String(port)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let buffered = "";
  const nextLine = async () => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("gated proxy ended");
      buffered += new TextDecoder().decode(value);
    }
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return line;
  };
  const localPort = Number(await nextLine());
  const say = async (word: string) => {
    proc.stdin.write(`${word}\n`);
    await proc.stdin.flush();
    await nextLine();
  };
  return { port: localPort, hold: () => say("hold"), release: () => say("go"), stop: () => proc.kill() };
}

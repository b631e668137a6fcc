/**
 * A one-question DNS client over UDP, for Kiln's own use: probing that its tenant resolver answers,
 * and tests. Not a general resolver: no retries over TCP, no compression beyond answer names.
 */
import { encodeName, RTYPE, type Rcode } from "../../formats/dns-wire.ts";

export interface DnsReply {
  rcode: Rcode;
  a: string[];
  srv: { port: number; target: string }[];
}

export async function queryDns(server: string, name: string, type: number, timeoutMs = 1000): Promise<DnsReply> {
  const i = server.lastIndexOf(":");
  const host = server.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(server.slice(i + 1));
  const id = Math.floor(Math.random() * 0x10000);
  const q = encodeName(name);
  const msg = new Uint8Array(12 + q.length + 4);
  const v = new DataView(msg.buffer);
  v.setUint16(0, id);
  v.setUint16(2, 0x0100);
  v.setUint16(4, 1);
  msg.set(q, 12);
  v.setUint16(12 + q.length, type);
  v.setUint16(14 + q.length, 1);
  const reply = Promise.withResolvers<Uint8Array>();
  const sock = await Bun.udpSocket({
    socket: {
      data(_s, data) {
        const bytes = new Uint8Array(data);
        if (bytes.length >= 2 && ((bytes[0]! << 8) | bytes[1]!) === id) reply.resolve(bytes);
      },
    },
  });
  const timer = setTimeout(() => reply.reject(new Error(`no DNS answer from ${server} within ${timeoutMs} ms`)), timeoutMs);
  try {
    sock.send(msg, port, host);
    return parseReply(await reply.promise);
  } finally {
    clearTimeout(timer);
    sock.close();
  }
}

function parseReply(b: Uint8Array): DnsReply {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: DnsReply = { rcode: (v.getUint16(2) & 0xf) as Rcode, a: [], srv: [] };
  let off = skipName(b, 12) + 4;
  for (let n = v.getUint16(6); n > 0; n--) {
    off = skipName(b, off);
    const type = v.getUint16(off);
    const len = v.getUint16(off + 8);
    const rdata = off + 10;
    if (type === RTYPE.A) out.a.push([...b.subarray(rdata, rdata + 4)].join("."));
    if (type === RTYPE.SRV) out.srv.push({ port: v.getUint16(rdata + 4), target: readName(b, rdata + 6) });
    off = rdata + len;
  }
  return out;
}

function skipName(b: Uint8Array, off: number): number {
  for (;;) {
    const n = b[off]!;
    if (n === 0) return off + 1;
    if (n >= 0xc0) return off + 2;
    off += n + 1;
  }
}

function readName(b: Uint8Array, off: number): string {
  const labels: string[] = [];
  for (let n = b[off]!; n !== 0; n = b[off]!) {
    if (n >= 0xc0) return [...labels, readName(b, ((n & 0x3f) << 8) | b[off + 1]!)].filter(Boolean).join(".");
    labels.push(new TextDecoder().decode(b.subarray(off + 1, off + 1 + n)));
    off += n + 1;
  }
  return labels.join(".");
}

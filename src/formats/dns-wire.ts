/**
 * The few pieces of the DNS wire format (RFC 1035, RFC 2782) Kiln's resolver speaks: one question
 * in, A or SRV records out. Pure functions over bytes; the server sends what these return.
 */

export const RTYPE = { A: 1, AAAA: 28, SRV: 33, ANY: 255 } as const;
export const RCODE = { ok: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

const CLASS_IN = 1;
const HEADER = 12;
const MAX_NAME = 255;

export interface Question {
  id: number;
  /** The query's flags word; RD is echoed back. */
  flags: number;
  /** Lower-case, without the trailing dot. */
  name: string;
  type: number;
  class: number;
  /** The question section as received, echoed in the answer. */
  raw: Uint8Array;
}

export type DnsRecord =
  | { type: "A"; ip: string; ttl: number }
  | { type: "SRV"; priority: number; weight: number; port: number; target: string; ttl: number };

export class DnsFormatError extends Error {}

/** The single question of a standard query. Throws DnsFormatError for anything else. */
export function parseQuery(msg: Uint8Array): Question {
  if (msg.length < HEADER) throw new DnsFormatError("shorter than a DNS header");
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  if (flags & 0x8000) throw new DnsFormatError("a response, not a query");
  if (view.getUint16(4) !== 1) throw new DnsFormatError("not exactly one question");
  const labels: string[] = [];
  let off = HEADER;
  let length = 0;
  for (;;) {
    if (off >= msg.length) throw new DnsFormatError("name runs past the message");
    const n = msg[off]!;
    if (n === 0) break;
    if (n > 63) throw new DnsFormatError("compressed or oversized label in the question");
    length += n + 1;
    if (length > MAX_NAME || off + 1 + n > msg.length) throw new DnsFormatError("name too long");
    labels.push(new TextDecoder("latin1").decode(msg.subarray(off + 1, off + 1 + n)));
    off += n + 1;
  }
  off += 1;
  if (off + 4 > msg.length) throw new DnsFormatError("question has no type and class");
  return {
    id,
    flags,
    name: labels.join(".").toLowerCase(),
    type: view.getUint16(off),
    class: view.getUint16(off + 2),
    raw: msg.slice(HEADER, off + 4),
  };
}

/** The opcode of a query's flags (0 is a standard query). */
export function opcodeOf(flags: number): number {
  return (flags >> 11) & 0xf;
}

/** An authoritative answer to `q`: its question echoed, then `records` (all owned by the question's name). */
export function encodeResponse(q: Pick<Question, "id" | "flags" | "raw">, rcode: Rcode, records: readonly DnsRecord[] = []): Uint8Array {
  const answers = records.map(encodeRecord);
  const size = HEADER + q.raw.length + answers.reduce((s, a) => s + a.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, q.id);
  // QR, the query's opcode and RD, AA (Kiln owns these names), RA (Go's resolver wants it), rcode.
  view.setUint16(2, 0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | rcode);
  view.setUint16(4, q.raw.length ? 1 : 0);
  view.setUint16(6, answers.length);
  out.set(q.raw, HEADER);
  let off = HEADER + q.raw.length;
  for (const a of answers) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

/** The header of a message too malformed to echo: FORMERR with the id, when there is one. */
export function formatError(msg: Uint8Array): Uint8Array | null {
  if (msg.length < 2) return null;
  return encodeResponse({ id: (msg[0]! << 8) | msg[1]!, flags: 0, raw: new Uint8Array(0) }, RCODE.formErr);
}

/** A name in wire format: length-prefixed labels, then a zero byte. */
export function encodeName(name: string): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  const bytes: number[] = [];
  for (const l of labels) {
    if (l.length > 63 || !/^[A-Za-z0-9_-]+$/.test(l)) throw new Error(`bad DNS label ${JSON.stringify(l)}`);
    bytes.push(l.length, ...new TextEncoder().encode(l));
  }
  bytes.push(0);
  if (bytes.length > MAX_NAME) throw new Error("DNS name too long");
  return Uint8Array.from(bytes);
}

function encodeRecord(r: DnsRecord): Uint8Array {
  const rdata = r.type === "A" ? ipv4Bytes(r.ip) : srvData(r);
  const out = new Uint8Array(12 + rdata.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xc000 | HEADER); // pointer to the question's name
  view.setUint16(2, r.type === "A" ? RTYPE.A : RTYPE.SRV);
  view.setUint16(4, CLASS_IN);
  view.setUint32(6, r.ttl);
  view.setUint16(10, rdata.length);
  out.set(rdata, 12);
  return out;
}

function srvData(r: Extract<DnsRecord, { type: "SRV" }>): Uint8Array {
  const target = encodeName(r.target);
  const out = new Uint8Array(6 + target.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, r.priority);
  view.setUint16(2, r.weight);
  view.setUint16(4, r.port);
  out.set(target, 6);
  return out;
}

function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Uint8Array.from(parts);
}

export const IN_CLASS = CLASS_IN;

/**
 * A small authoritative DNS server on a UDP port: each standard query goes to an Answerer, whose
 * answer is encoded and sent back. Malformed queries get FORMERR (or are dropped when not even the
 * id can be read); anything but a standard query gets NOTIMP; an answerer that throws, SERVFAIL.
 */
import type { udp } from "bun";
import { encodeResponse, formatError, opcodeOf, parseQuery, IN_CLASS, RCODE, type DnsRecord, type Question, type Rcode } from "../../formats/dns-wire.ts";

export interface DnsAnswer {
  rcode: Rcode;
  records?: DnsRecord[];
}

export interface Answerer {
  answer(name: string, type: number): Promise<DnsAnswer> | DnsAnswer;
}

export interface DnsServer {
  /** host:port it answers on. */
  readonly address: string;
  readonly port: number;
  stop(): void;
}

export async function startDnsServer(opts: { hostname: string; port: number; answerer: Answerer; onError?: (err: unknown) => void }): Promise<DnsServer> {
  const respond = async (msg: Uint8Array): Promise<Uint8Array | null> => {
    let q: Question;
    try {
      q = parseQuery(msg);
    } catch {
      return formatError(msg);
    }
    if (opcodeOf(q.flags) !== 0) return encodeResponse(q, RCODE.notImp);
    if (q.class !== IN_CLASS) return encodeResponse(q, RCODE.refused);
    try {
      const a = await opts.answerer.answer(q.name, q.type);
      return encodeResponse(q, a.rcode, a.records);
    } catch (err) {
      opts.onError?.(err);
      return encodeResponse(q, RCODE.servFail);
    }
  };
  const socket: udp.Socket<"buffer"> = await Bun.udpSocket({
    hostname: opts.hostname,
    port: opts.port,
    socket: {
      data(sock, data, port, address) {
        void respond(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).then((out) => {
          if (out) sock.send(out, port, address);
        });
      },
    },
  });
  const host = opts.hostname.includes(":") ? `[${opts.hostname}]` : opts.hostname;
  return {
    address: `${host}:${socket.port}`,
    port: socket.port,
    stop: () => socket.close(),
  };
}

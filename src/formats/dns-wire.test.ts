import { expect, test } from "bun:test";
import { DnsFormatError, encodeName, encodeResponse, parseQuery, RCODE, RTYPE } from "./dns-wire.ts";
import { addressName, addressOfName } from "../core/address-names.ts";

/** A query as a stub resolver sends it: header, one question, optionally an EDNS OPT record. */
function query(name: string, type: number, opts: { id?: number; flags?: number; edns?: boolean } = {}): Uint8Array {
  const header = new Uint8Array(12);
  const v = new DataView(header.buffer);
  v.setUint16(0, opts.id ?? 0x1234);
  v.setUint16(2, opts.flags ?? 0x0100);
  v.setUint16(4, 1);
  v.setUint16(10, opts.edns ? 1 : 0);
  const q = new Uint8Array([...encodeName(name), type >> 8, type & 255, 0, 1]);
  const opt = opts.edns ? new Uint8Array([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]) : new Uint8Array(0);
  return new Uint8Array([...header, ...q, ...opt]);
}

test("parseQuery reads the one question, lower-cased, and ignores an EDNS record after it", () => {
  const q = parseQuery(query("A.Echo.Localhost", RTYPE.SRV, { edns: true }));
  expect(q).toMatchObject({ id: 0x1234, name: "a.echo.localhost", type: RTYPE.SRV, class: 1 });
  expect(q.raw.length).toBe(encodeName("a.echo.localhost").length + 4);
});

test("parseQuery refuses what is not one plain question", () => {
  expect(() => parseQuery(new Uint8Array(5))).toThrow(DnsFormatError);
  const twoQuestions = query("a.b", RTYPE.A);
  twoQuestions[5] = 2;
  expect(() => parseQuery(twoQuestions)).toThrow(/exactly one question/);
  const compressed = query("a.b", RTYPE.A);
  compressed[12] = 0xc0;
  expect(() => parseQuery(compressed)).toThrow(DnsFormatError);
  expect(() => parseQuery(query("a.b", RTYPE.A).slice(0, 16))).toThrow(DnsFormatError);
  expect(() => parseQuery(query("a.b", RTYPE.A, { flags: 0x8000 }))).toThrow(/response/);
});

test("encodeResponse answers authoritatively with the question echoed and SRV/A records pointing at it", () => {
  const q = parseQuery(query("t.w.localhost", RTYPE.SRV));
  const out = encodeResponse(q, RCODE.ok, [{ type: "SRV", priority: 0, weight: 5, port: 32768, target: "127-0-0-1.ip.kiln", ttl: 0 }]);
  const v = new DataView(out.buffer);
  expect(v.getUint16(0)).toBe(0x1234);
  const flags = v.getUint16(2);
  expect(flags & 0x8000).toBeTruthy(); // QR
  expect(flags & 0x0400).toBeTruthy(); // AA
  expect(flags & 0x0100).toBeTruthy(); // RD echoed
  expect(flags & 0xf).toBe(0);
  expect([v.getUint16(4), v.getUint16(6)]).toEqual([1, 1]);
  const rr = 12 + q.raw.length;
  expect(v.getUint16(rr)).toBe(0xc00c);
  expect(v.getUint16(rr + 2)).toBe(RTYPE.SRV);
  expect(v.getUint16(rr + 16)).toBe(32768);
  expect(new TextDecoder().decode(out.subarray(rr + 18))).toContain("ip");
  const nx = new DataView(encodeResponse(q, RCODE.nxDomain).buffer);
  expect([nx.getUint16(2) & 0xf, nx.getUint16(6)]).toEqual([3, 0]);
});

test("encodeName refuses labels that are not host-name labels", () => {
  expect(() => encodeName("a b.c")).toThrow();
  expect(() => encodeName(`${"x".repeat(64)}.c`)).toThrow();
  expect([...encodeName("ab.c.")]).toEqual([2, 97, 98, 1, 99, 0]);
});

test("address names stand for loopback addresses only", () => {
  expect(addressName("127.0.0.1")).toBe("127-0-0-1.ip.kiln");
  expect(addressOfName("127-0-0-1.ip.kiln.")).toBe("127.0.0.1");
  expect(addressOfName("127-9-8-7.IP.kiln")).toBe("127.9.8.7");
  expect(addressOfName("10-0-0-1.ip.kiln")).toBeNull();
  expect(addressOfName("127-0-0-256.ip.kiln")).toBeNull();
  expect(addressOfName("127-0-0-01.ip.kiln")).toBeNull();
  expect(addressOfName("x.127-0-0-1.ip.kiln")).toBeNull();
  expect(() => addressName("172.17.0.2")).toThrow(/loopback/);
});

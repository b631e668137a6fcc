import { expect, test } from "bun:test";
import { parseListening, reachable } from "./listening.ts";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BB8 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000  1000        0 12347 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:13BA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2222 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2223 1 0000000000000000 100 0 0 10 0
`;

test("LISTEN sockets of /proc/net/tcp: address and port; established ones skipped", () => {
  expect(parseListening(TCP, 4)).toEqual([
    { address: "0.0.0.0", port: 3000 },
    { address: "127.0.0.1", port: 8080 },
  ]);
});

test("tcp6: any and loopback", () => {
  expect(parseListening(TCP6, 6)).toEqual([
    { address: "::", port: 5050 },
    { address: "::1", port: 8081 },
  ]);
});

test("loopback-only sockets are not reachable through Docker's port proxy", () => {
  expect(reachable({ address: "0.0.0.0", port: 1 })).toBe(true);
  expect(reachable({ address: "::", port: 1 })).toBe(true);
  expect(reachable({ address: "127.0.0.1", port: 1 })).toBe(false);
  expect(reachable({ address: "::1", port: 1 })).toBe(false);
});

test("garbage and headers only give nothing", () => {
  expect(parseListening("", 4)).toEqual([]);
  expect(parseListening("header\nnot a row\n", 4)).toEqual([]);
});

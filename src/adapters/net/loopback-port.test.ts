import { expect, test } from "bun:test";
import { freeLoopbackPort, isPortTaken } from "./loopback-port.ts";

test("a free loopback port can be bound at once", () => {
  const port = freeLoopbackPort();
  expect(port).toBeGreaterThan(1023);
  const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
  expect(server.port).toBe(port);
  server.stop(true);
});

test("the engine's port refusals are recognised", () => {
  expect(isPortTaken(new Error("driver failed programming external connectivity: Bind for 127.0.0.1:41234 failed: port is already allocated"))).toBe(true);
  expect(isPortTaken(new Error("listen tcp4 127.0.0.1:41234: bind: address already in use"))).toBe(true);
  expect(isPortTaken(new Error("no such image"))).toBe(false);
});

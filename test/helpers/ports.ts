/** A free TCP port on 127.0.0.1 (bound and released; fine for tests on one machine). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

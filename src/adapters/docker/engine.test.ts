/**
 * DockerEngine.ensureNetwork behind a socket proxy, against a fake engine on a unix socket
 * (the real engine's behaviour is in test/docker/engine.test.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { DockerEngine } from "./engine.ts";

/** A fake engine's answer: a string body is HTML (a proxy's error page), anything else JSON. */
type Answer = { status: number; body: unknown };
const FORBIDDEN: Answer = { status: 403, body: "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n" };

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

/** A fake engine answering with `answer`; the requests it saw, as "METHOD /path". */
function fakeEngine(answer: (method: string, path: string) => Answer): { socketPath: string; seen: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fake-engine-"));
  const socketPath = join(dir, "docker.sock");
  const seen: string[] = [];
  const server = Bun.serve({
    unix: socketPath,
    fetch(req) {
      const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, "");
      seen.push(`${req.method} ${path}`);
      const { status, body } = answer(req.method, path);
      return typeof body === "string" ? new Response(body, { status, headers: { "content-type": "text/html" } }) : Response.json(body, { status });
    },
  });
  stops.push(() => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });
  return { socketPath, seen };
}

describe("ensureNetwork behind a socket proxy", () => {
  test("listing networks refused (403): assumes the network exists, warns once, creates nothing", async () => {
    const engine = fakeEngine(() => FORBIDDEN);
    const warnings: string[] = [];
    const docker = new DockerEngine({ socketPath: engine.socketPath, warn: (m) => warnings.push(m) });
    await docker.ensureNetwork("kiln", {});
    await docker.ensureNetwork("kiln", {});
    expect(engine.seen).toEqual(["GET /networks", "GET /networks"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("network kiln is assumed to exist");
    expect(warnings[0]).toContain("create the network yourself");
  });

  test("listing allowed but the network is missing and creating it is refused: an error, with a hint", async () => {
    const engine = fakeEngine((method) => (method === "GET" ? { status: 200, body: [] } : FORBIDDEN));
    const docker = new DockerEngine({ socketPath: engine.socketPath, warn: () => {} });
    const err = await docker.ensureNetwork("kiln", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toBe("docker: 403 Forbidden Request forbidden by administrative rules.");
    expect((err as KilnError).hint).toContain("POST /networks/create was refused (HTTP 403)");
    expect(engine.seen).toEqual(["GET /networks", "POST /networks/create"]);
  });

  test("any other failure of the check is an error", async () => {
    const engine = fakeEngine(() => ({ status: 500, body: { message: "daemon broke" } }));
    const warnings: string[] = [];
    const docker = new DockerEngine({ socketPath: engine.socketPath, warn: (m) => warnings.push(m) });
    const err = await docker.ensureNetwork("kiln", {}).catch((e: unknown) => e);
    expect((err as KilnError).message).toBe("docker: daemon broke");
    expect(warnings).toEqual([]);
  });
});

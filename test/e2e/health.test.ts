/**
 * GET /health against real dependencies: 200 while Docker, Caddy's admin API and the tenant
 * resolver answer; 503 naming the one that stopped, with a hint, once it really stops answering.
 *   - Docker: the Kiln's KILN_DOCKER_SOCKET is a symlink to a forwarding socket in front of the real
 *     engine (test/helpers/socket-proxy.ts, every section allowed). Stopping the forwarder closes its
 *     connections and removes its socket: Kiln's Docker is gone. A new forwarder behind the same
 *     symlink brings it back (and lets the Kiln clean up after itself).
 *   - Caddy: the Kiln uses a Caddy the test runs (KILN_MANAGE_CADDY=0, so Kiln does not restart it);
 *     the test stops that Caddy.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CaddySupervisor } from "../../src/adapters/caddy/supervisor.ts";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { freePort } from "../helpers/ports.ts";
import { SOCKET_PROXY_SECTIONS, startSocketProxy, type SocketProxy } from "../helpers/socket-proxy.ts";

const tmp = mkdtempSync(join(tmpdir(), "kiln-health-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface HealthBody {
  ok: boolean;
  docker: boolean;
  caddy: boolean;
  tenantResolver: boolean;
  down: { dependency: string; message: string; hint: string }[];
}

async function health(kiln: TestKiln): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${kiln.apiUrl}/api/v1/health`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

/** Poll /health until it answers `status` (the report is cached for about a second). */
async function healthBecomes(kiln: TestKiln, status: number, timeoutMs = 15_000): Promise<HealthBody> {
  const deadline = Date.now() + timeoutMs;
  let last = await health(kiln);
  while (last.status !== status && Date.now() < deadline) {
    await Bun.sleep(100);
    last = await health(kiln);
  }
  if (last.status !== status) throw new Error(`/health stayed ${last.status}: ${JSON.stringify(last.body)}`);
  return last.body;
}

const EVERY_SECTION = { ...Object.fromEntries(SOCKET_PROXY_SECTIONS.map((s) => [s, true])), POST: true };

describe("a healthy Kiln", () => {
  let kiln: TestKiln;
  afterAll(() => kiln?.stop(), 60_000);

  test("answers 200 with Docker, Caddy and the tenant resolver up and nothing down", async () => {
    kiln = await startTestKiln();
    const { status, body } = await health(kiln);
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, docker: true, caddy: true, tenantResolver: true, down: [] });
  }, 60_000);
});

describe("Docker stops answering", () => {
  const link = join(tmp, "docker.sock");
  let proxy: SocketProxy | null = null;
  let kiln: TestKiln;
  afterAll(async () => {
    await kiln?.stop();
    await proxy?.stop();
  }, 60_000);

  test("→ 503 naming docker with a hint naming KILN_DOCKER_SOCKET; back to 200 when it returns", async () => {
    proxy = await startSocketProxy({ allow: EVERY_SECTION });
    symlinkSync(proxy.socketPath, link);
    kiln = await startTestKiln({ KILN_DOCKER_SOCKET: link });
    expect((await health(kiln)).status).toBe(200);

    await proxy.stop();
    proxy = null;
    const down = await healthBecomes(kiln, 503);
    expect(down).toMatchObject({ ok: false, docker: false, caddy: true, tenantResolver: true });
    expect(down.down).toEqual([
      {
        dependency: "docker",
        message: `the Docker engine does not answer on ${link}`,
        hint: "start dockerd (e.g. `systemctl start docker`), or set KILN_DOCKER_SOCKET to the socket it listens on",
      },
    ]);

    proxy = await startSocketProxy({ allow: EVERY_SECTION });
    rmSync(link);
    symlinkSync(proxy.socketPath, link);
    expect(await healthBecomes(kiln, 200)).toMatchObject({ ok: true, docker: true, down: [] });
  }, 90_000);
});

describe("Caddy stops answering", () => {
  const caddyAdmin = `http://127.0.0.1:${freePort()}`;
  const caddy = new CaddySupervisor({ adminUrl: caddyAdmin, dataDir: join(tmp, "external-caddy"), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, log: () => {} });
  let kiln: TestKiln;
  afterAll(async () => {
    await kiln?.stop();
    await caddy.stop();
  }, 60_000);

  test("→ 503 naming caddy with a hint naming KILN_CADDY_ADMIN", async () => {
    expect(await caddy.ensureRunning()).toBe("started");
    kiln = await startTestKiln({ KILN_CADDY_ADMIN: caddyAdmin, KILN_MANAGE_CADDY: "0" });
    expect((await health(kiln)).status).toBe(200);

    await caddy.stop();
    const down = await healthBecomes(kiln, 503);
    expect(down).toMatchObject({ ok: false, docker: true, caddy: false, tenantResolver: true });
    expect(down.down).toEqual([
      {
        dependency: "caddy",
        message: `Caddy's admin API does not answer at ${caddyAdmin}`,
        hint: "start your Caddy with its admin API at KILN_CADDY_ADMIN, or set KILN_MANAGE_CADDY=1 to let Kiln run one",
      },
    ]);
  }, 90_000);
});

/**
 * A real Caddy (the `caddy` binary on PATH) for the test/caddy tests, started by CaddySupervisor on
 * free loopback ports, with a CaddyRouteTable over it and loopback backends that name themselves.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { CaddyRouteTable } from "../../src/adapters/caddy/route-table.ts";
import { CaddySupervisor } from "../../src/adapters/caddy/supervisor.ts";
import { freePort } from "../helpers/ports.ts";

export interface CaddyFixture {
  adminUrl: string;
  publicPort: number;
  table: CaddyRouteTable;
  /** GET (or `init.method`) through Caddy with Host `<name>.localhost`. */
  request(name: string, path?: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startCaddy(): Promise<CaddyFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), "kiln-caddy-test-"));
  const adminUrl = `http://127.0.0.1:${freePort()}`;
  const publicPort = freePort();
  const supervisor = new CaddySupervisor({ adminUrl, dataDir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, log: () => {} });
  await supervisor.ensureRunning();
  const table = new CaddyRouteTable({ adminUrl, publicHost: "localhost", publicPort, listenHost: "127.0.0.1" });
  await table.load([]);
  return {
    adminUrl,
    publicPort,
    table,
    request: (name, path = "/", init = {}) =>
      fetch(`http://127.0.0.1:${publicPort}${path}`, { ...init, headers: { host: `${name}.localhost` }, signal: init.signal ?? AbortSignal.timeout(15_000) }),
    async stop() {
      await supervisor.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A backend on 127.0.0.1 that answers its label (body and X-Backend). `/slow` takes `slowMs`;
 * `/healthz` answers `healthStatus()`; `active` is its requests in flight.
 */
export interface Backend {
  label: string;
  address: string;
  server: Server<undefined>;
  active: number;
  served: number;
}

export function backend(label: string, opts: { slowMs?: number; healthStatus?: () => number } = {}): Backend {
  const b: Backend = { label, address: "", server: null as unknown as Server<undefined>, active: 0, served: 0 };
  b.server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/healthz") return new Response(label, { status: opts.healthStatus?.() ?? 200 });
      b.active++;
      try {
        if (path === "/slow") await Bun.sleep(opts.slowMs ?? 1500);
        b.served++;
        return new Response(label, { headers: { "x-backend": label } });
      } finally {
        b.active--;
      }
    },
  });
  b.address = `127.0.0.1:${b.server.port}`;
  return b;
}

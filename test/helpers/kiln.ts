/**
 * A real Kiln for end-to-end tests: the same composition root as `kiln serve`, on a temp data dir,
 * a free API port, its own Caddy (admin and public ports free, public bound to 127.0.0.1), its own
 * Docker network. `stopKiln` removes every container, image and route it made.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startKiln, type Kiln } from "../../src/main.ts";
import type { LogLine } from "../../src/core/logs.ts";
import { freePort } from "./ports.ts";
import { TEST_NETWORK } from "./network.ts";

export interface TestKiln extends Kiln {
  publicPort: number;
  caddyAdmin: string;
  api(path: string, init?: RequestInit): Promise<Response>;
  /** GET through Caddy with the app's subdomain as Host. */
  viaSubdomain(name: string, path?: string): Promise<Response>;
  /** GET /d/<id><path> through Caddy with the public host as Host. */
  viaPath(id: string, path?: string): Promise<Response>;
  waitFor(idOrName: string, statuses: string[], timeoutMs?: number): Promise<Record<string, any>>;
  logs(idOrName: string, opts?: { since?: number; until?: (lines: LogLine[]) => boolean; timeoutMs?: number }): Promise<LogLine[]>;
}

export async function startTestKiln(env: Record<string, string> = {}): Promise<TestKiln> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-test-"));
  const publicPort = freePort();
  const caddyAdmin = `http://127.0.0.1:${freePort()}`;
  const config = loadConfig({
    KILN_DATA_DIR: dataDir,
    KILN_API_PORT: String(freePort()),
    KILN_PUBLIC_PORT: String(publicPort),
    KILN_PUBLIC_LISTEN: "127.0.0.1",
    KILN_CADDY_ADMIN: caddyAdmin,
    KILN_DOCKER_NETWORK: TEST_NETWORK,
    KILN_READY_TIMEOUT_S: "30",
    KILN_WORKLOADS_DIR: join(dataDir, "workloads"),
    ...env,
  });
  const kiln = await startKiln(config, { quiet: true });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${kiln.apiUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${kiln.token}`, ...(init.headers ?? {}) } });
  const t: TestKiln = {
    ...kiln,
    publicPort,
    caddyAdmin,
    api,
    viaSubdomain: (name, path = "/") => fetch(`http://127.0.0.1:${publicPort}${path}`, { headers: { host: `${name}.localhost:${publicPort}` } }),
    // /d/<id> paths answer on the public host only, as the README's http://localhost:8080/d/<id>/.
    viaPath: (id, path = "/") => fetch(`http://127.0.0.1:${publicPort}/d/${id}${path}`, { headers: { host: `${config.publicHost}:${publicPort}` } }),
    async waitFor(idOrName, statuses, timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, any> = {};
      while (Date.now() < deadline) {
        const res = await api(`/deployments/${idOrName}`);
        last = (await res.json()) as Record<string, any>;
        if (statuses.includes(last.status)) return last;
        await Bun.sleep(200);
      }
      throw new Error(`deployment ${idOrName} did not reach ${statuses.join("|")}: ${JSON.stringify(last)}`);
    },
    logs(idOrName, opts = {}) {
      const lines: LogLine[] = [];
      const url = `${kiln.apiUrl.replace("http", "ws")}/api/v1/deployments/${idOrName}/logs?since=${opts.since ?? 1}&token=${kiln.token}`;
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        const timer = setTimeout(() => {
          ws.close();
          opts.until ? reject(new Error(`logs: condition not met; got ${lines.length} lines:\n${lines.slice(-15).map((l) => l.text).join("\n")}`)) : resolve(lines);
        }, opts.timeoutMs ?? 3000);
        ws.onmessage = (ev) => {
          lines.push(JSON.parse(String(ev.data)) as LogLine);
          if (opts.until?.(lines)) {
            clearTimeout(timer);
            ws.close();
            resolve(lines);
          }
        };
        ws.onerror = () => {
          clearTimeout(timer);
          reject(new Error("websocket error"));
        };
      });
    },
    async stop() {
      try {
        for (const d of await kiln.service.list()) await kiln.service.remove(d.id, { volumes: true }).catch(() => {});
        await kiln.stop();
      } finally {
        // Pool members and their slot mounts outlive a Kiln on purpose (claims survive restarts): clear them.
        for (const c of await kiln.runtime.listContainers({ "kiln.instance": kiln.instanceId })) await kiln.runtime.removeContainer(c.id);
        for (const dir of ["slots", "slots-staging"]) Bun.spawnSync(["umount", "-R", "-l", join(dataDir, dir)]);
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  return t;
}

/** The hello-node example, or any folder, as tar bytes. */
export async function tarOf(dir: string, gzip = false): Promise<Uint8Array> {
  const { packDirectory } = await import("../../src/adapters/fs/pack-directory.ts");
  const tar = await packDirectory(dir);
  return gzip ? Bun.gzipSync(tar as Uint8Array<ArrayBuffer>) : tar;
}

/**
 * A deployment whose build fails at once (its tree has nothing to build): a log stream tests can
 * publish into (`kiln.bus.publish(id, …)`). Returns its id.
 */
export async function failedDeployment(kiln: TestKiln, name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kiln-empty-app-"));
  try {
    writeFileSync(join(dir, "README.txt"), "nothing to run here\n");
    const created = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: await tarOf(dir) });
    if (created.status !== 202) throw new Error(`upload of an empty tree: ${created.status} ${await created.text()}`);
    const id = ((await created.json()) as { id: string }).id;
    await kiln.waitFor(id, ["failed"], 60_000);
    return id;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

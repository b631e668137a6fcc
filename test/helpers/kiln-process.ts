/**
 * A Kiln run as its own process (`bun bin/kiln serve`), for tests that kill it: its env on free
 * ports and a temp data dir, an API client, and a cleanup that leaves nothing behind.
 */
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./ports.ts";
import { TEST_NETWORK } from "./network.ts";

const ROOT = join(import.meta.dir, "../..");

export interface KilnProcess {
  dataDir: string;
  env: Record<string, string>;
  publicPort: number;
  api(path: string, init?: RequestInit | { body: unknown }): Promise<Response>;
  viaCaddy(host: string, path?: string): Promise<Response>;
  /**
   * Start `bun bin/kiln serve` in the repository, or `cmd` in `cwd` (e.g. a compiled binary), and wait for /health.
   * `output`: a file to append Kiln's stdout and stderr to (default: stdout ignored, stderr to this process's);
   * `timeoutMs`: how long to wait for /health (default 10 s).
   */
  serve(opts?: { cmd?: string[]; cwd?: string; output?: string; timeoutMs?: number }): Promise<Subprocess>;
  /** Kill any Caddy it started, unmount its slots, remove its data dir. */
  cleanup(): void;
}

export function kilnProcess(prefix: string): KilnProcess {
  const dataDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    KILN_DATA_DIR: dataDir,
    KILN_WORKLOADS_DIR: join(dataDir, "workloads"),
    KILN_API_PORT: String(freePort()),
    KILN_PUBLIC_PORT: String(freePort()),
    KILN_PUBLIC_LISTEN: "127.0.0.1",
    KILN_CADDY_ADMIN: `http://127.0.0.1:${freePort()}`,
    KILN_DOCKER_NETWORK: TEST_NETWORK,
    KILN_API_TOKEN: "test-token-0123456789abcdef",
  };
  const base = `http://127.0.0.1:${env.KILN_API_PORT}/api/v1`;
  return {
    dataDir,
    env,
    publicPort: Number(env.KILN_PUBLIC_PORT),
    api(path, init = {}) {
      const headers = { authorization: `Bearer ${env.KILN_API_TOKEN}`, "content-type": "application/json" };
      if ("body" in init && init.body !== undefined && !(typeof init.body === "string" || init.body instanceof Uint8Array)) {
        return fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(init.body), headers });
      }
      return fetch(`${base}${path}`, { ...(init as RequestInit), headers: { ...headers, ...((init as RequestInit).headers ?? {}) } });
    },
    viaCaddy: (host, path = "/") => fetch(`http://127.0.0.1:${env.KILN_PUBLIC_PORT}${path}`, { headers: { host } }),
    async serve(opts = {}) {
      const out = opts.output === undefined ? null : openSync(opts.output, "a");
      const proc = Bun.spawn(opts.cmd ?? ["bun", "bin/kiln", "serve"], { cwd: opts.cwd ?? ROOT, env, stdout: out ?? "ignore", stderr: out ?? "inherit" });
      if (out !== null) closeSync(out);
      for (let i = 0; i < (opts.timeoutMs ?? 10_000) / 100; i++) {
        if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) return proc;
        await Bun.sleep(100);
      }
      proc.kill("SIGKILL");
      throw new Error("kiln serve did not come up");
    },
    cleanup() {
      for (const pid of Bun.spawnSync(["pgrep", "-f", join(dataDir, "caddy")]).stdout.toString().trim().split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
      for (const dir of ["slots", "slots-staging"]) Bun.spawnSync(["umount", "-R", "-l", join(dataDir, dir)]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

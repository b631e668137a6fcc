import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../core/errors.ts";
import { CaddySupervisor, caddyArgv } from "./supervisor.ts";

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

const dataDir = await mkdtemp(join(tmpdir(), "kiln-caddy-sup-"));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function deadUrl(): Promise<string> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const url = `http://127.0.0.1:${s.port}`;
  s.stop(true);
  return url;
}

test("argv", () => {
  expect(caddyArgv("/usr/bin/caddy", "/d/caddy/bootstrap.json")).toEqual(["/usr/bin/caddy", "run", "--config", "/d/caddy/bootstrap.json"]);
});

test("an admin API that already answers is used as is", async () => {
  const fake = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({}) });
  try {
    const sup = new CaddySupervisor({ adminUrl: `http://127.0.0.1:${fake.port}`, dataDir, env, caddyBin: "kiln-no-such-caddy", log: () => {} });
    expect(await sup.ensureRunning()).toBe("external");
    expect(sup.pid).toBeNull();
    await sup.stop();
  } finally {
    fake.stop(true);
  }
});

test("no admin API and no caddy binary: unavailable, saying what to install", async () => {
  const sup = new CaddySupervisor({ adminUrl: await deadUrl(), dataDir, env, caddyBin: "kiln-no-such-caddy", log: () => {} });
  const err = (await sup.ensureRunning().catch((e: unknown) => e)) as KilnError;
  expect(err).toBeInstanceOf(KilnError);
  expect(err.kind).toBe("unavailable");
  expect(err.message).toContain("no `kiln-no-such-caddy` binary is on PATH");
  expect(err.hint).toContain("install Caddy");
});

test("a caddy that exits at once fails the start and is not restarted", async () => {
  let restarts = 0;
  const logs: string[] = [];
  const sup = new CaddySupervisor({
    adminUrl: await deadUrl(),
    dataDir,
    env,
    caddyBin: "false", // exits 1 right away
    log: (l) => logs.push(l),
    onRestart: () => void restarts++,
    backoff: { initialMs: 10 },
  });
  const err = (await sup.ensureRunning().catch((e: unknown) => e)) as KilnError;
  expect(err.kind).toBe("unavailable");
  expect(err.message).toContain("exited right after starting (code 1)");
  expect(sup.pid).toBeNull();
  // The start failed after awaiting the child's exit, and an exit handler (where a restart is
  // decided and announced: "…; restarting") would have run before that: none was scheduled.
  expect(logs.filter((l) => l.includes("restarting"))).toEqual([]);
  expect(logs.filter((l) => l.startsWith("started caddy"))).toHaveLength(1);
  expect(restarts).toBe(0);
  expect(await Bun.file(sup.bootstrapPath).json()).toMatchObject({ admin: { config: { persist: false } } });
  await sup.stop();
});

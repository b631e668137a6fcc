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

test("the Caddy a previous Kiln started is adopted: killed, it is started again and the routes re-applied", async () => {
  const { freePort } = await import("../../../test/helpers/ports.ts");
  const dir = await mkdtemp(join(tmpdir(), "kiln-caddy-adopt-"));
  const adminUrl = `http://127.0.0.1:${freePort()}`;
  let restarts = 0;
  // the Kiln that "died": it would restart its Caddy only after a minute, long after the test
  const first = new CaddySupervisor({ adminUrl, dataDir: dir, env, log: () => {}, backoff: { initialMs: 60_000 } });
  const second = new CaddySupervisor({ adminUrl, dataDir: dir, env, log: () => {}, onRestart: () => void restarts++, backoff: { initialMs: 10 } });
  try {
    expect(await first.ensureRunning()).toBe("started");
    const pid = first.pid!;
    // A Kiln killed with SIGKILL: the next one finds its Caddy answering, and keeps it.
    expect(await second.ensureRunning()).toBe("running");
    expect(second.pid).toBe(pid);
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && (second.pid === pid || second.pid === null || restarts === 0); i++) await Bun.sleep(100);
    expect(second.pid).not.toBe(pid);
    expect(restarts).toBe(1);
    expect(await fetch(`${adminUrl}/config/`).then((r) => r.status)).toBe(200);
  } finally {
    await second.stop();
    await first.stop();
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);

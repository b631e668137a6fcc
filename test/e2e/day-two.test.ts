/**
 * Day two against the real engine and Caddy: env changes without a rebuild, values encrypted at
 * rest, releases and rollback (content and env), settings (port, health path, start command,
 * rootDir), a volume that survives redeploy and rollback, replicas (both served, one killed
 * replaced with no failed request), a health check that never passes leaving the old release
 * serving, and zero failed requests across redeploys with slow requests in flight.
 * One Kiln, one git app whose commits change its VERSION; the tests run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { commitFiles, makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";

const FIXTURE = join(import.meta.dir, "../fixtures/apps/day-two");
let kiln: TestKiln;
let gitd: GitDaemon;
let repo: string;
let id: string;

const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const send = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function app(path = "/"): Promise<{ version: string; greeting: string | null; host: string; port: string }> {
  const res = await kiln.viaSubdomain("daytwo", path);
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

async function builds(): Promise<number> {
  return (((await (await kiln.api(`/deployments/${id}/builds`)).json()) as any).builds as unknown[]).length;
}

async function releases(): Promise<any[]> {
  return ((await (await kiln.api(`/deployments/${id}/releases`)).json()) as any).releases;
}

function fixtureFiles(version: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(FIXTURE)) files[f] = readFileSync(join(FIXTURE, f), "utf8");
  files.VERSION = `${version}\n`;
  return files;
}

/** Bounded load through Caddy: `clients` keep-alive loops, one request in ten slow, until `stop` resolves (or `maxMs`). */
async function underLoad(stop: Promise<unknown>, opts: { clients: number; maxMs: number; slowMs?: number }): Promise<{ ok: number; failed: string[] }> {
  let done = false;
  void stop.finally(() => (done = true));
  const deadline = Date.now() + opts.maxMs;
  const failed: string[] = [];
  let ok = 0;
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, c) => {
      for (let i = 0; !done && Date.now() < deadline && i < 100_000; i++) {
        const path = (i + c) % 10 === 0 && opts.slowMs ? `/slow?ms=${opts.slowMs}` : "/";
        try {
          const res = await kiln.viaSubdomain("daytwo", path);
          await res.arrayBuffer();
          if (res.status === 200) ok++;
          else failed.push(`${path}: ${res.status}`);
        } catch (err) {
          failed.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }),
  );
  return { ok, failed };
}

beforeAll(async () => {
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
  repo = gitd.repoDir("daytwo.git");
  makeRepo(repo, fixtureFiles("v1"));
  const res = await kiln.api("/deployments", json({ gitUrl: gitd.url("daytwo.git"), name: "daytwo", env: { GREETING: "hello" } }));
  expect(res.status).toBe(202);
  id = ((await res.json()) as any).id;
  expect((await kiln.waitFor(id, ["running", "failed"])).status).toBe("running");
}, 240_000);

afterAll(async () => {
  await kiln?.rollout.settled();
  await kiln?.stop();
  await gitd?.stop();
}, 90_000);

describe("env", () => {
  test("set and unset reach the app without a rebuild; each change is a release; values never come back", async () => {
    expect(await app()).toMatchObject({ version: "v1", greeting: "hello" });
    const buildsBefore = await builds();

    const set = await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { GREETING: "bonjour-7f3a" } }));
    const setBody = await set.text();
    expect(set.status).toBe(200);
    expect(setBody).not.toContain("bonjour-7f3a");
    expect(JSON.parse(setBody)).toMatchObject({ applied: "released", release: { number: 2, trigger: "env", description: "env: set GREETING" } });
    expect(await app()).toMatchObject({ version: "v1", greeting: "bonjour-7f3a" });

    const listed = await (await kiln.api(`/deployments/${id}/env`)).text();
    expect(JSON.parse(listed)).toEqual({ env: [{ key: "GREETING", secret: true, buildTime: false }] });
    expect(listed).not.toContain("bonjour");

    const unset = await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { unset: ["GREETING"] }));
    expect(unset.status).toBe(200);
    expect((await app()).greeting).toBeNull();
    expect(await builds()).toBe(buildsBefore);
    expect((await releases()).map((r) => r.number)).toEqual([3, 2, 1]);
  }, 90_000);

  test("an env value is encrypted at rest: not readable in the database files", async () => {
    await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { GREETING: "bonjour-7f3a" } }));
    for (const f of ["kiln.db", "kiln.db-wal"]) {
      const path = join(kiln.config.dataDir, f);
      if (existsSync(path)) expect(Buffer.from(readFileSync(path)).includes("bonjour-7f3a")).toBe(false);
    }
    // …and not in Kiln's logs either
    const lines = await kiln.logs(id, { timeoutMs: 1500 });
    expect(lines.some((l) => l.text.includes("bonjour-7f3a"))).toBe(false);
  }, 60_000);

  test("bad input: a bad name, PORT, a non-string value, an unknown app", async () => {
    const bad = async (body: unknown, status = 400) => {
      const res = await kiln.api(`/deployments/${id}/env`, send("PATCH", body));
      expect(res.status).toBe(status);
      return ((await res.json()) as any).error.message as string;
    };
    expect(await bad({ set: { "1BAD": "x" } })).toContain("1BAD");
    expect(await bad({ set: { PORT: "80" } })).toContain("PORT");
    expect(await bad({ set: { A: 3 } })).toBeTruthy();
    expect(await bad({ set: { A: "x" }, unset: ["A"] })).toContain("both");
    expect((await kiln.api(`/deployments/nope/env`)).status).toBe(404);
    expect((await fetch(`${kiln.apiUrl}/api/v1/deployments/${id}/env`)).status).toBe(401);
  });
});

describe("releases and rollback", () => {
  test("rollback serves an earlier release's content and env, without a build, as a new release", async () => {
    commitFiles(repo, { VERSION: "v2\n" }, "v2");
    await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { GREETING: "v2-greeting" } }));
    const before = await releases();
    const res = await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" });
    expect(res.status).toBe(202);
    const deadline = Date.now() + 180_000;
    while ((await app()).version !== "v2" && Date.now() < deadline) await Bun.sleep(300);
    expect(await app()).toMatchObject({ version: "v2", greeting: "v2-greeting" });
    const buildsNow = await builds();

    const target = before.find((r) => r.description === "env: set GREETING" && r.number === 2)!;
    const rb = await kiln.api(`/deployments/${id}/rollback?wait=true`, json({ release: target.number }));
    expect(rb.status).toBe(200);
    const body = (await rb.json()) as any;
    expect(body.release).toMatchObject({ trigger: "rollback", rollbackOf: 2, current: true });
    expect(await app()).toMatchObject({ version: "v1", greeting: "bonjour-7f3a" });
    expect(await builds()).toBe(buildsNow);
    expect((await (await kiln.api(`/deployments/${id}/env`)).json()) as any).toEqual({ env: [{ key: "GREETING", secret: true, buildTime: false }] });

    // Default: the release before the serving one (the v2 redeploy).
    const back = await kiln.api(`/deployments/${id}/rollback?wait=true`, { method: "POST" });
    expect(back.status).toBe(200);
    expect(await app()).toMatchObject({ version: "v2", greeting: "v2-greeting" });
  }, 240_000);

  test("rollback bad input: unknown release 404, bad body 400", async () => {
    expect((await kiln.api(`/deployments/${id}/rollback`, json({ release: 999 }))).status).toBe(404);
    expect((await kiln.api(`/deployments/${id}/rollback`, json({ release: "two" }))).status).toBe(400);
    expect((await kiln.api(`/deployments/${id}/rollback`, json({ extra: 1 }))).status).toBe(400);
  });
});

describe("settings", () => {
  test("a health check that never passes leaves the old release serving, and says why", async () => {
    await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { HEALTH_STATUS: "503" } }));
    const serving = ((await (await kiln.api(`/deployments/${id}`)).json()) as any).currentRelease.number;
    const res = await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { healthcheck: { path: "/healthz", startPeriod: 3 } }));
    expect(res.status).toBe(409);
    const err = ((await res.json()) as any).error;
    expect(err.message).toContain("/healthz");
    expect(err.message).toContain("status 503");
    const d = (await (await kiln.api(`/deployments/${id}`)).json()) as any;
    expect(d.currentRelease.number).toBe(serving);
    expect(d.status).toBe("running");
    expect(d.failureReason).toContain("health check");
    expect((await app()).version).toBe("v2");
    // Fixing the app makes the saved health check pass.
    const fixed = await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { unset: ["HEALTH_STATUS"] }));
    expect(fixed.status).toBe(200);
    expect(((await (await kiln.api(`/deployments/${id}/settings`)).json()) as any).healthcheck).toMatchObject({ path: "/healthz", startPeriod: 3 });
  }, 60_000);

  test("startCommand and port take effect on the same image", async () => {
    const res = await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { startCommand: "node fixed-port.js", port: 5050, healthcheck: null }));
    expect(res.status).toBe(200);
    const answer = await kiln.viaSubdomain("daytwo");
    expect(await answer.text()).toBe("fixed port 5050");
    const back = await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { startCommand: null, port: null }));
    expect(back.status).toBe(200);
    expect((await app()).port).toBe("3000");
  }, 60_000);

  test("settings bad input is a 400 naming the field", async () => {
    for (const [body, field] of [
      [{ replicas: 0 }, "replicas"],
      [{ rootDir: "../etc" }, "rootDir"],
      [{ volumes: [{ name: "x", path: "/etc" }] }, "volumes"],
      [{ memory: "lots" }, "memory"],
      [{ nope: 1 }, "nope"],
    ] as const) {
      const res = await kiln.api(`/deployments/${id}/settings`, send("PATCH", body));
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain(field);
    }
  });

  test("rootDir builds the app from a folder of the upload", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-mono-"));
    cpSync(FIXTURE, join(dir, "apps/web"), { recursive: true });
    const res = await kiln.api("/deployments/upload?name=mono", {
      method: "POST",
      headers: { "Kiln-Settings": JSON.stringify({ rootDir: "apps/web" }), "Kiln-Env": JSON.stringify({ GREETING: "from-mono" }) },
      body: await tarOf(dir),
    });
    expect(res.status).toBe(202);
    const d = await kiln.waitFor("mono", ["running", "failed"]);
    expect([d.status, d.failureReason]).toEqual(["running", null]);
    const answer = (await (await kiln.viaSubdomain("mono")).json()) as any;
    expect(answer).toMatchObject({ version: "v1", greeting: "from-mono" });
    await kiln.api("/deployments/mono", { method: "DELETE" });
  }, 180_000);
});

describe("volumes", () => {
  test("a volume's file survives redeploy and rollback; delete keeps it unless asked", async () => {
    expect((await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { volumes: [{ name: "data", path: "/data" }] }))).status).toBe(200);
    expect(await (await kiln.viaSubdomain("daytwo", "/write?v=kept-note")).text()).toBe("written");
    const release = ((await (await kiln.api(`/deployments/${id}`)).json()) as any).currentRelease.number;

    await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" });
    const deadline = Date.now() + 180_000;
    while (((await (await kiln.api(`/deployments/${id}`)).json()) as any).currentRelease.number === release && Date.now() < deadline) await Bun.sleep(300);
    expect(await (await kiln.viaSubdomain("daytwo", "/read")).text()).toBe("kept-note");

    expect((await kiln.api(`/deployments/${id}/rollback?wait=true`, json({ release }))).status).toBe(200);
    expect(await (await kiln.viaSubdomain("daytwo", "/read")).text()).toBe("kept-note");

    const volumes = await kiln.runtime.listVolumes({ "kiln.deployment": id });
    expect(volumes.map((v) => v.labels["kiln.volume"])).toEqual(["data"]);
  }, 240_000);
});

describe("replicas and swaps", () => {
  test("replicas 2: both served behind one route; one killed is replaced with no failed request", async () => {
    expect((await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { replicas: 2 }))).status).toBe(200);
    const d = await kiln.service.get(id);
    expect(d.instances.length).toBe(2);
    const hosts = new Set<string>();
    for (let i = 0; i < 20 && hosts.size < 2; i++) hosts.add((await app()).host);
    expect(hosts.size).toBe(2);

    const victim = d.instances[0]!.containerId;
    const replaced = (async () => {
      await Bun.sleep(1000);
      await kiln.runtime.stopContainer(victim, 0); // SIGKILL at once
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const now = await kiln.service.get(id);
        const infos = await Promise.all(now.instances.map((i) => kiln.runtime.inspectContainer(i.containerId)));
        if (now.instances.length === 2 && infos.every((x) => x?.running)) {
          // …and answering through the route again
          const seen = new Set<string>();
          for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await app()).host);
          if (seen.size === 2) return;
        }
        await Bun.sleep(250);
      }
      throw new Error("the killed replica was not replaced");
    })();
    const load = await underLoad(replaced, { clients: 4, maxMs: 70_000 });
    await replaced;
    expect(load.failed).toEqual([]);
    expect(load.ok).toBeGreaterThan(50);
  }, 120_000);

  test("zero failed requests across redeploys and env changes with slow requests in flight", async () => {
    const changes = (async () => {
      for (let i = 0; i < 2; i++) {
        const before = ((await (await kiln.api(`/deployments/${id}`)).json()) as any).currentRelease.number;
        await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" });
        const deadline = Date.now() + 120_000;
        while (((await (await kiln.api(`/deployments/${id}`)).json()) as any).currentRelease.number === before && Date.now() < deadline) await Bun.sleep(300);
        expect((await kiln.api(`/deployments/${id}/env?wait=true`, send("PATCH", { set: { ROUND: String(i) } }))).status).toBe(200);
      }
      await Bun.sleep(2000); // the last drain's slow requests finish under load too
    })();
    const load = await underLoad(changes, { clients: 8, maxMs: 300_000, slowMs: 1500 });
    await changes;
    expect(load.failed).toEqual([]);
    expect(load.ok).toBeGreaterThan(100);
  }, 320_000);

  test("restart policy never: a killed app is left down and failed, saying why; a settings change brings it back", async () => {
    expect((await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { replicas: 1, restartPolicy: "never" }))).status).toBe(200);
    const d = await kiln.service.get(id);
    await kiln.runtime.stopContainer(d.instances[0]!.containerId, 0);
    const failed = await kiln.waitFor(id, ["failed"], 30_000);
    expect(failed.failureReason).toContain("restart policy (never)");
    // A reconcile pass (what repairs dead apps) has run since, and left it down.
    await kiln.reconciler.passAfresh({ boot: false, forceRoutes: false });
    await kiln.rollout.settled(); // the previous release's containers, drained after the settings change
    expect((await kiln.service.get(id)).instances).toEqual([]);
    expect((await kiln.runtime.listContainers({ "kiln.deployment": id })).filter((c) => c.running)).toEqual([]);
    expect((await kiln.viaSubdomain("daytwo")).status).toBe(404);

    expect((await kiln.api(`/deployments/${id}/settings?wait=true`, send("PATCH", { restartPolicy: "always" }))).status).toBe(200);
    expect((await kiln.api(`/deployments/${id}`).then((r) => r.json()) as any).status).toBe("running");
    expect((await app()).version).toBe("v2");
  }, 90_000);
});

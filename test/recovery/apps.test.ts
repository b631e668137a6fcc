/**
 * Running apps stay running, against the real engine and Caddy: an app container removed by hand is
 * made again from the current build and answers at the same URL; one whose process is killed is
 * started again (the route follows its port) and its log resumes without gap or duplicate; an app
 * that keeps dying goes `crashlooping` with its last lines, restarted with backoff (starts counted
 * from the engine's own events), and a redeploy with a fix brings it back to `running`.
 * Faults are made through the Engine API, as another tool would; all traffic on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ContainerEvent, EngineEvent } from "../../src/core/ports/engine-events.ts";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { commitFiles, makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";
import { DOCKER_SOCKET } from "../helpers/dockerd.ts";
import { until } from "../helpers/wait.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");

/** One Engine API request, as `docker rm -f` / `docker kill` would make it. */
async function engine(method: string, path: string): Promise<number> {
  const res = await fetch(`http://docker/v1.41${path}`, { method, unix: DOCKER_SOCKET } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

async function published(containerId: string): Promise<string | null> {
  return (await (kiln.runtime.inspectContainer(containerId)))?.published ?? null;
}

let kiln: TestKiln;
let gitd: GitDaemon;
const events: EngineEvent[] = [];

beforeAll(async () => {
  [kiln, gitd] = await Promise.all([startTestKiln(), startGitDaemon()]);
  kiln.events.subscribe((e) => events.push(e));
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await gitd?.stop();
});

async function answers(name: string, expect: string): Promise<boolean> {
  try {
    const res = await kiln.viaSubdomain(name);
    return res.status === 200 && (await res.text()).includes(expect);
  } catch {
    return false;
  }
}

describe("a running app", () => {
  let id: string;

  beforeAll(async () => {
    const res = await kiln.api("/deployments/upload?name=phoenix", { method: "POST", body: await tarOf(HELLO) });
    id = ((await res.json()) as { id: string }).id;
    expect((await kiln.waitFor(id, ["running", "failed"])).status).toBe("running");
  }, 200_000);

  test("removed with docker rm -f: made again from its release, answering at the same URL", async () => {
    const before = await kiln.service.get(id);
    expect(await engine("DELETE", `/containers/${before.instances[0]?.containerId}?force=1`)).toBe(204);
    const after = await until("a new container for phoenix", async () => {
      const d = await kiln.service.get(id);
      return d.instances[0]?.containerId !== before.instances[0]?.containerId && d.status === "running" && (await answers("phoenix", "hello from kiln")) && d;
    });
    const info = await kiln.runtime.inspectContainer(after.instances[0]!.containerId);
    const build = await kiln.service.currentBuild(after);
    expect([info?.running, info?.labels["kiln.build"], info?.image]).toEqual([true, before.currentBuildId!, build!.image!]);
    expect(after.currentBuildId).toBe(before.currentBuildId);
    expect(after.instances[0]?.upstream).toBe(info!.published);
    expect(await kiln.runtime.inspectContainer(before.instances[0]!.containerId)).toBeNull();
  }, 90_000);

  test("its main process killed: started again, the route follows its port, the log resumes without gap or duplicate", async () => {
    const before = await kiln.service.get(id);
    expect(await answers("phoenix", "hello from kiln")).toBe(true);
    const marker = `/before-kill-${Date.now()}`;
    expect((await kiln.viaSubdomain("phoenix", marker)).status).toBe(200);
    await kiln.logs(id, { until: (ls) => ls.some((l) => l.text === `GET ${marker}`), timeoutMs: 10_000 });
    const listeningBefore = (await kiln.logs(id, { timeoutMs: 1500 })).filter((l) => l.text.startsWith("hello-node listening")).length;

    const restartedFrom = events.length;
    expect(await engine("POST", `/containers/${before.instances[0]?.containerId}/kill`)).toBe(204);
    // The engine's start of the same container, then the app answering through Caddy again.
    await until("the killed container started again", async () => events.slice(restartedFrom).some((e) => e.kind === "container" && e.action === "start" && e.containerId === before.instances[0]?.containerId));
    await until("phoenix answering again", async () => (await answers("phoenix", "hello from kiln")) && (await kiln.service.get(id)).instances[0]?.upstream === (await published(before.instances[0]!.containerId)));
    const after = await kiln.service.get(id);
    expect(after.instances[0]?.containerId).toBe(before.instances[0]?.containerId);
    expect(after.status).toBe("running");

    const marker2 = `/after-restart-${Date.now()}`;
    expect((await kiln.viaSubdomain("phoenix", marker2)).status).toBe(200);
    const lines = await kiln.logs(id, { until: (ls) => ls.some((l) => l.text === `GET ${marker2}`), timeoutMs: 10_000 });
    const texts = lines.map((l) => l.text);
    // Every line of the first run once, the restarted run's own start line once more, nothing twice.
    expect(texts.filter((t) => t === `GET ${marker}`)).toHaveLength(1);
    expect(texts.filter((t) => t === `GET ${marker2}`)).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith("hello-node listening"))).toHaveLength(listeningBefore + 1);
  }, 90_000);
});

describe("an app that keeps dying", () => {
  /** Answers, prints a line, and exits 1 a moment later — every time it is started. */
  const DYING = `const http = require("node:http");
http.createServer((req, res) => res.end("still here\\n")).listen(Number(process.env.PORT), "0.0.0.0", () => console.log("up, about to fail"));
setTimeout(() => { console.log("crash-marker: giving up"); process.exit(1); }, 1500);
`;
  const FIXED = `require("node:http").createServer((req, res) => res.end("fixed and steady\\n")).listen(Number(process.env.PORT), "0.0.0.0");\n`;
  const PKG = JSON.stringify({ name: "dying", version: "1.0.0", private: true, scripts: { start: "node server.js" } });

  test("goes crashlooping with its last lines, restarts with backoff, and a redeploy with a fix runs it", async () => {
    const repo = gitd.repoDir("dying.git");
    makeRepo(repo, { "package.json": PKG, "server.js": DYING });
    const res = await kiln.api("/deployments", { method: "POST", body: JSON.stringify({ gitUrl: gitd.url("dying.git"), ref: "main", name: "dying" }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { id: string }).id;
    const mine = (e: EngineEvent): e is ContainerEvent => e.kind === "container" && e.labels["kiln.deployment"] === id;
    const from = events.length;
    // The deploy itself succeeds: it answers before it dies.
    expect((await kiln.waitFor(id, ["running", "failed"])).status).toBe("running");

    const looping = await kiln.waitFor(id, ["crashlooping"], 120_000);
    expect(looping.failureReason).toContain("exited with code 1");
    expect(looping.failureReason).toContain("crash-marker: giving up");
    expect(looping.failureReason).toMatch(/next try at \d{4}-\d\d-\d\dT/);

    // Backoff, counted from the engine's events: in the 20 s after the first death, few starts.
    const mineEvents = events.slice(from).filter(mine);
    const firstDie = mineEvents.find((e) => e.action === "die")!;
    const startsIn20s = mineEvents.filter((e) => e.action === "start" && e.at > firstDie.at && e.at <= firstDie.at + 20_000);
    expect(mineEvents.filter((e) => e.action === "die").length).toBeGreaterThanOrEqual(5);
    expect(startsIn20s.length).toBeGreaterThanOrEqual(1);
    expect(startsIn20s.length).toBeLessThan(6);

    commitFiles(repo, { "server.js": FIXED }, "fix the crash");
    const re = await kiln.api(`/deployments/${id}/redeploy`, { method: "POST" });
    expect(re.status).toBe(202);
    expect((await kiln.waitFor(id, ["running", "failed"], 180_000)).status).toBe("running");
    await until("the fixed app answering", () => answers("dying", "fixed and steady"));
    expect((await kiln.service.get(id)).failureReason).toBeNull();
  }, 300_000);
});

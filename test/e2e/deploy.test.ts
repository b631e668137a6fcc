/**
 * Deployments end to end against the real Docker engine and a real Caddy: tarball and git
 * sources, both URL styles, logs over the WebSocket, redeploy history, stop and delete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";

const HELLO = join(import.meta.dir, "../../examples/hello-node");
let kiln: TestKiln;
let gitd: GitDaemon;

beforeAll(async () => {
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
});

afterAll(async () => {
  await kiln?.stop();
  await gitd?.stop();
});

async function upload(name: string, bytes: Uint8Array): Promise<Record<string, any>> {
  const res = await kiln.api(`/deployments/upload?name=${name}`, { method: "POST", body: bytes });
  expect(res.status).toBe(202);
  return (await res.json()) as Record<string, any>;
}

describe("deploy from a tarball", () => {
  let dep: Record<string, any>;

  test("hello-node goes live on both URL styles", async () => {
    dep = await upload("hello", await tarOf(HELLO, true));
    expect(dep.name).toBe("hello");
    expect(dep.url).toBe(`http://hello.localhost:${kiln.publicPort}/`);
    const running = await kiln.waitFor(dep.id, ["running", "failed"]);
    expect(running.failureReason).toBeNull();
    expect(running.status).toBe("running");
    expect(running.currentBuild.builder).toBe("kiln");
    // the builder's decision, one line on the build record (and first in its log)
    expect(running.currentBuild.plan).toBe("detected: Node.js app (npm, no lockfile: npm) → start `node server.js` on port 3000");

    const sub = await kiln.viaSubdomain("hello", "/x");
    expect(sub.status).toBe(200);
    expect(await sub.text()).toContain("path /x");
    const path = await kiln.viaPath(dep.id, "/y");
    expect(path.status).toBe(200);
    expect(await path.text()).toContain("path /y");
  });

  test("unknown hosts get a 404 from Caddy", async () => {
    expect((await kiln.viaSubdomain("nobody-here")).status).toBe(404);
  });

  test("logs stream over the WebSocket: build lines first, then runtime lines", async () => {
    await kiln.viaSubdomain("hello", "/ping-for-logs");
    const lines = await kiln.logs(dep.id, { until: (ls) => ls.some((l) => l.stream === "runtime" && l.text.includes("/ping-for-logs")), timeoutMs: 15_000 });
    const seqs = lines.map((l) => l.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const firstRuntime = lines.findIndex((l) => l.stream === "runtime");
    const lastBuild = lines.findLastIndex((l) => l.stream === "build");
    expect(lastBuild).toBeGreaterThan(0);
    expect(firstRuntime).toBeGreaterThan(lastBuild);
    expect(lines.some((l) => l.stream === "runtime" && l.text.includes("listening on port"))).toBe(true);
    expect(lines.some((l) => l.stream === "system" && l.text.includes("deployed in"))).toBe(true);
  });

  test("replay from a seq returns only what follows it", async () => {
    const all = await kiln.logs(dep.id, { timeoutMs: 1000 });
    const from = all[5]!.seq;
    const tail = await kiln.logs(dep.id, { since: from, timeoutMs: 1000 });
    expect(tail[0]!.seq).toBe(from);
    expect(tail.length).toBeGreaterThanOrEqual(all.length - 5);
  });

  test("redeploy builds again, keeps the history, and swaps with no downtime", async () => {
    let failures = 0;
    let requests = 0;
    let polling = true;
    const poller = (async () => {
      for (let i = 0; polling && i < 3000; i++) {
        requests++;
        const r = await kiln.viaSubdomain("hello").catch(() => null);
        if (!r || r.status !== 200) failures++;
        await r?.text();
        await Bun.sleep(20);
      }
    })();
    const res = await kiln.api(`/deployments/${dep.id}/redeploy`, { method: "POST" });
    expect(res.status).toBe(202);
    let done = await kiln.waitFor(dep.id, ["running", "failed"]);
    while (done.currentBuild.number !== 2 || done.currentBuild.status !== "succeeded") {
      if (done.currentBuild.status === "failed") break;
      await Bun.sleep(200);
      done = await kiln.waitFor(dep.id, ["running", "failed"]);
    }
    polling = false;
    await poller;
    expect(done.status).toBe("running");
    expect(done.currentBuild.number).toBe(2);
    const builds = (await (await kiln.api(`/deployments/${dep.id}/builds`)).json()) as { builds: any[] };
    expect(builds.builds.map((b) => b.number)).toEqual([2, 1]);
    expect(builds.builds.every((b) => b.status === "succeeded")).toBe(true);
    expect(builds.builds[0].steps.map((s: any) => s.name)).toEqual(["source", "build", "run", "healthy", "route"]);
    expect(requests).toBeGreaterThan(5);
    expect(failures).toBe(0);
    // the old container goes once the route points at the new one
    let containers = await kiln.runtime.listContainers({ "kiln.deployment": dep.id });
    for (let i = 0; i < 100 && containers.length > 1; i++) {
      await Bun.sleep(100);
      containers = await kiln.runtime.listContainers({ "kiln.deployment": dep.id });
    }
    expect(containers.map((c) => c.labels["kiln.build"])).toEqual([done.currentBuild.id]);
  });

  test("stop removes container and route; delete removes images too", async () => {
    const stop = await kiln.api(`/deployments/${dep.id}/stop`, { method: "POST" });
    expect(stop.status).toBe(200);
    expect(((await stop.json()) as any).status).toBe("stopped");
    expect(await kiln.runtime.listContainers({ "kiln.deployment": dep.id })).toEqual([]);
    expect((await kiln.viaSubdomain("hello")).status).toBe(404);
    expect((await kiln.runtime.listImages({ "kiln.deployment": dep.id })).length).toBeGreaterThan(0);

    const del = await kiln.api(`/deployments/${dep.id}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(await kiln.runtime.listImages({ "kiln.deployment": dep.id })).toEqual([]);
    expect((await kiln.api(`/deployments/${dep.id}`)).status).toBe(404);
  });
});

describe("deploy from git", () => {
  test("a git:// URL from a local git daemon, at a branch", async () => {
    makeRepo(gitd.repoDir("hello.git"), {
      "package.json": await Bun.file(join(HELLO, "package.json")).text(),
      "server.js": await Bun.file(join(HELLO, "server.js")).text(),
    });
    const res = await kiln.api("/deployments", { method: "POST", body: JSON.stringify({ gitUrl: gitd.url("hello.git"), ref: "main", name: "from-git" }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(202);
    const dep = (await res.json()) as any;
    expect(dep.source).toEqual({ kind: "git", url: gitd.url("hello.git"), ref: "main" });
    const running = await kiln.waitFor(dep.id, ["running", "failed"]);
    expect(running.failureReason).toBeNull();
    expect(running.currentBuild.commit).toMatch(/^[0-9a-f]{40}$/);
    const r = await kiln.viaSubdomain("from-git");
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("hello from kiln");
  });

  test("a missing ref fails the build with git's reason", async () => {
    const res = await kiln.api("/deployments", { method: "POST", body: JSON.stringify({ gitUrl: gitd.url("hello.git"), ref: "no-such-branch" }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(202);
    const dep = (await res.json()) as any;
    const failed = await kiln.waitFor(dep.id, ["failed", "running"]);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/no-such-branch/);
  });
});

describe("the API's own description", () => {
  test("health answers without a token and reports Docker, Caddy and the tenant resolver", async () => {
    const res = await fetch(`${kiln.apiUrl}/api/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, docker: true, caddy: true, tenantResolver: true });
  });

  test("openapi.json is generated from the request schemas", async () => {
    const doc = (await (await fetch(`${kiln.apiUrl}/api/v1/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/health", "/deployments", "/deployments/upload", "/deployments/{id}", "/deployments/{id}/builds", "/deployments/{id}/redeploy", "/deployments/{id}/stop"]),
    );
    const create = doc.components.schemas.CreateGitDeployment;
    expect(create.required).toContain("gitUrl");
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(["gitUrl", "ref", "name", "env", "gitToken"]));
  });
});

/**
 * Previews against the real engine, Caddy and a real `git daemon`: a pull request's preview serves
 * its branch at <app>-pr-<n> with the app's non-secret env only, follows new pushes, goes within
 * seconds when the pull request closes; a fork's preview never gets secrets; POST …/previews {ref}
 * makes one from any CI (with secrets when allowed); bad input; TTL and max; an app's removal
 * takes its previews. Most pull request events are handed to PreviewService as the webhook
 * receiver does; one test sends signed GitHub payloads to the hook endpoint itself. One Kiln, one
 * app; the tests run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestKiln, tarOf, type TestKiln } from "../helpers/kiln.ts";
import { commitFiles, git, makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";
import type { PullRequestEvent } from "../../src/core/hooks.ts";

let kiln: TestKiln;
let gitd: GitDaemon;
let repo: string;
let parentId: string;

const SECRET_VALUE = "s3cr3t-9c1f";
const send = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** A tiny app: says its VERSION and the two variables a preview may or may not get. */
function appFiles(version: string): Record<string, string> {
  return {
    "package.json": JSON.stringify({ name: "pv", version: "1.0.0", private: true, main: "server.js", scripts: { start: "node server.js" } }),
    "server.js": `const fs = require("fs");
const VERSION = fs.readFileSync(__dirname + "/VERSION", "utf8").trim();
require("http").createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ version: VERSION, pub: process.env.PUB_NOTE ?? null, secret: process.env.SECRET_TOKEN ?? null }));
}).listen(Number(process.env.PORT || 3000), "0.0.0.0");
`,
    VERSION: `${version}\n`,
  };
}

async function served(name: string): Promise<{ version: string; pub: string | null; secret: string | null }> {
  const res = await kiln.viaSubdomain(name);
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

/** Poll `name`'s URL until `ok` holds (bounded). */
async function until(name: string, ok: (body: any) => boolean, timeoutMs = 180_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const res = await kiln.viaSubdomain(name);
      if (res.status === 200) {
        last = await res.json();
        if (ok(last)) return last;
      } else last = res.status;
    } catch (err) {
      last = String(err);
    }
    await Bun.sleep(300);
  }
  throw new Error(`${name} never served what was expected; last: ${JSON.stringify(last)}`);
}

async function parent() {
  return kiln.service.get(parentId);
}

const pr = (action: PullRequestEvent["action"], number: number, headRef: string, headSha: string, extra: Partial<PullRequestEvent> = {}): PullRequestEvent => ({
  kind: "pull_request",
  action,
  number,
  headRef,
  headSha,
  cloneUrl: gitd.url("pv.git"),
  fork: false,
  ...extra,
});

async function setPreviews(previews: Record<string, unknown>) {
  const res = await kiln.api(`/deployments/${parentId}/settings?wait=true`, send("PATCH", { previews }));
  expect(res.status).toBeLessThan(300);
}

async function previewNames(): Promise<string[]> {
  const res = await kiln.api(`/deployments/${parentId}/previews`);
  expect(res.status).toBe(200);
  return (((await res.json()) as any).previews as { name: string }[]).map((p) => p.name).sort();
}

beforeAll(async () => {
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
  repo = gitd.repoDir("pv.git");
  makeRepo(repo, appFiles("main-v1"));
  const res = await kiln.api(
    "/deployments",
    send("POST", { gitUrl: gitd.url("pv.git"), name: "pvapp", env: { PUB_NOTE: { value: "hello-pub", secret: false }, SECRET_TOKEN: SECRET_VALUE } }),
  );
  expect(res.status).toBe(202);
  parentId = ((await res.json()) as any).id;
  expect((await kiln.waitFor(parentId, ["running", "failed"])).status).toBe("running");
}, 240_000);

afterAll(async () => {
  await kiln?.rollout.settled();
  await kiln?.stop();
  await gitd?.stop();
}, 90_000);

describe("pull request previews", () => {
  test("previews off: a pull request is ignored, saying how to turn them on", async () => {
    const out = await kiln.previews.onPullRequest(await parent(), pr("open", 7, "main", "0".repeat(40)), "github");
    expect(out).toEqual({ status: "ignored", message: "previews are off for pvapp: PATCH settings {previews: {enabled: true}}" });
    expect(await previewNames()).toEqual([]);
  });

  test("opened: <app>-pr-7 serves the branch at its own URL, with the non-secret variable and not the secret one", async () => {
    await setPreviews({ enabled: true });
    git(repo, "checkout", "--quiet", "-b", "feature");
    const sha = commitFiles(repo, { VERSION: "feature-v1\n" }, "feature v1");
    git(repo, "checkout", "--quiet", "main");

    const out = await kiln.previews.onPullRequest(await parent(), pr("open", 7, "feature", sha), "github");
    expect(out.status).toBe("created");
    const d = await kiln.waitFor("pvapp-pr-7", ["running", "failed"]);
    expect(d.status).toBe("running");
    expect(d.preview).toMatchObject({ parentId, number: 7, ref: "feature", commit: sha, fork: false });
    expect(d.currentBuild.commit).toBe(sha);
    expect(d.url).toContain("pvapp-pr-7.");
    expect(await served("pvapp-pr-7")).toEqual({ version: "feature-v1", pub: "hello-pub", secret: null });
    expect((await served("pvapp")).version).toBe("main-v1");
    // keys only, and the secret one is not among them
    const env = await (await kiln.api(`/deployments/pvapp-pr-7/env`)).text();
    expect(JSON.parse(env)).toEqual({ env: [{ key: "PUB_NOTE", secret: false, buildTime: false }] });
    expect(await previewNames()).toEqual(["pvapp-pr-7"]);
    const lines = await kiln.logs(parentId, { until: (ls) => ls.some((l) => l.text.includes("preview pvapp-pr-7 of pull request #7 created")), timeoutMs: 5000 });
    expect(lines.some((l) => l.text.includes(SECRET_VALUE))).toBe(false);
  }, 240_000);

  test("synchronize: the preview redeploys at the new head; the app is untouched", async () => {
    git(repo, "checkout", "--quiet", "feature");
    const sha = commitFiles(repo, { VERSION: "feature-v2\n" }, "feature v2");
    git(repo, "checkout", "--quiet", "main");
    const out = await kiln.previews.onPullRequest(await parent(), pr("update", 7, "feature", sha), "github");
    expect(out.status).toBe("redeployed");
    expect((await until("pvapp-pr-7", (b) => b.version === "feature-v2")).secret).toBeNull();
    expect((await kiln.service.get("pvapp-pr-7")).preview!.commit).toBe(sha);
    expect((await kiln.waitFor("pvapp-pr-7", ["running"])).currentBuild.commit).toBe(sha);
    expect((await served("pvapp")).version).toBe("main-v1");
  }, 240_000);

  test("a fork's preview comes from the fork and never gets secrets, even with secrets on", async () => {
    const ignored = await kiln.previews.onPullRequest(await parent(), pr("open", 8, "main", "0".repeat(40), { fork: true, cloneUrl: gitd.url("fork.git") }), "github");
    expect(ignored.status).toBe("ignored");
    expect(ignored.message).toContain("fork");

    await setPreviews({ enabled: true, forks: true, secrets: true });
    const fork = gitd.repoDir("fork.git");
    git(gitd.baseDir, "clone", "--quiet", repo, fork);
    const sha = commitFiles(fork, { VERSION: "fork-v1\n" }, "from a fork");
    const out = await kiln.previews.onPullRequest(await parent(), pr("open", 8, "main", sha, { fork: true, cloneUrl: gitd.url("fork.git") }), "github");
    expect(out.status).toBe("created");
    expect((await kiln.waitFor("pvapp-pr-8", ["running", "failed"])).status).toBe("running");
    expect(await served("pvapp-pr-8")).toEqual({ version: "fork-v1", pub: "hello-pub", secret: null });
    expect((await kiln.service.get("pvapp-pr-8")).envKeys).toEqual(["PUB_NOTE"]);
  }, 240_000);

  test("through a signed GitHub webhook: a pull request payload makes a preview, a fork's gets no secrets, close removes them", async () => {
    const made = await kiln.api(`/deployments/${parentId}/webhook`, { method: "POST" });
    expect(made.status).toBe(201);
    const { url, secret } = (await made.json()) as { url: string; secret: string };
    let delivery = 0;
    const deliver = async (action: string, number: number, head: { sha: string; ref: string; repo: string; cloneUrl: string }) => {
      const payload = JSON.stringify({
        action,
        number,
        pull_request: { number, head: { sha: head.sha, ref: head.ref, repo: { full_name: head.repo, clone_url: head.cloneUrl, fork: head.repo !== "kiln/pv" } }, base: { ref: "main", repo: { full_name: "kiln/pv" } } },
      });
      const sig = new Bun.CryptoHasher("sha256", secret).update(payload).digest("hex");
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": `pv-${++delivery}`, "x-hub-signature-256": `sha256=${sig}` },
        body: payload,
      });
      expect(res.status).toBe(202);
      return (await res.json()) as { status: string; message: string };
    };
    const featureSha = git(repo, "rev-parse", "feature");
    const forkSha = git(gitd.repoDir("fork.git"), "rev-parse", "HEAD");
    // previews.secrets is on (set above): the pull request from the base repository gets them, the fork's not
    expect((await deliver("opened", 11, { sha: featureSha, ref: "feature", repo: "kiln/pv", cloneUrl: gitd.url("pv.git") })).status).toBe("created");
    expect((await deliver("opened", 12, { sha: forkSha, ref: "main", repo: "someone/pv", cloneUrl: gitd.url("fork.git") })).status).toBe("created");
    expect((await kiln.waitFor("pvapp-pr-11", ["running", "failed"])).status).toBe("running");
    expect((await kiln.waitFor("pvapp-pr-12", ["running", "failed"])).status).toBe("running");
    expect(await served("pvapp-pr-11")).toEqual({ version: "feature-v2", pub: "hello-pub", secret: SECRET_VALUE });
    expect(await served("pvapp-pr-12")).toEqual({ version: "fork-v1", pub: "hello-pub", secret: null });
    expect((await kiln.service.get("pvapp-pr-12")).preview).toMatchObject({ number: 12, fork: true, commit: forkSha });

    expect(await deliver("closed", 11, { sha: featureSha, ref: "feature", repo: "kiln/pv", cloneUrl: gitd.url("pv.git") })).toEqual({ status: "removed", message: "preview pvapp-pr-11 removed: pull request #11 closed" });
    expect((await deliver("closed", 12, { sha: forkSha, ref: "main", repo: "someone/pv", cloneUrl: gitd.url("fork.git") })).status).toBe("removed");
    expect((await kiln.api("/deployments/pvapp-pr-11")).status).toBe(404);
    expect((await kiln.viaSubdomain("pvapp-pr-12")).status).not.toBe(200);
    expect(await previewNames()).toEqual(["pvapp-pr-7", "pvapp-pr-8"]);
  }, 240_000);

  test("closed: the preview is gone within seconds (URL, containers, deployment)", async () => {
    const d = await kiln.service.get("pvapp-pr-7");
    const started = Date.now();
    const out = await kiln.previews.onPullRequest(await parent(), pr("close", 7, "feature", "0".repeat(40)), "github");
    expect(out).toEqual({ status: "removed", message: "preview pvapp-pr-7 removed: pull request #7 closed" });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await kiln.api("/deployments/pvapp-pr-7")).status).toBe(404);
    expect((await kiln.viaSubdomain("pvapp-pr-7")).status).not.toBe(200);
    expect(await kiln.runtime.listContainers({ "kiln.deployment": d.id })).toEqual([]);
    expect(await previewNames()).toEqual(["pvapp-pr-8"]);
    expect((await served("pvapp")).version).toBe("main-v1");
  }, 60_000);
});

describe("POST /deployments/:id/previews", () => {
  test("a preview of a ref, from any CI: 202, named after the ref, with secrets when the app allows them", async () => {
    const res = await kiln.api(`/deployments/pvapp/previews`, send("POST", { ref: "feature" }));
    expect(res.status).toBe(202);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ name: "pvapp-feature", preview: { parentId, number: null, ref: "feature", fork: false } });
    expect((await kiln.waitFor(body.id, ["running", "failed"])).status).toBe("running");
    // previews.secrets is on (set above) and this is no fork
    expect(await served("pvapp-feature")).toEqual({ version: "feature-v2", pub: "hello-pub", secret: SECRET_VALUE });
    expect(await previewNames()).toEqual(["pvapp-feature", "pvapp-pr-8"]);
  }, 240_000);

  test("a preview from an uploaded tarball: named after its ref, serving the upload; again with the same ref replaces it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-pv-upload-"));
    for (const [f, content] of Object.entries(appFiles("upload-v1"))) writeFileSync(join(dir, f), content);
    const upload = async () => kiln.api(`/deployments/pvapp/previews/upload?ref=ci-build`, { method: "POST", body: await tarOf(dir) });
    const res = await upload();
    expect(res.status).toBe(202);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ name: "pvapp-ci-build", preview: { parentId, number: null, ref: "ci-build", fork: false }, source: { kind: "tarball" } });
    expect((await kiln.waitFor(body.id, ["running", "failed"])).status).toBe("running");
    expect((await served("pvapp-ci-build")).version).toBe("upload-v1");

    writeFileSync(join(dir, "VERSION"), "upload-v2\n");
    const again = await upload();
    expect(again.status).toBe(202);
    const second = (await again.json()) as any;
    expect(second.name).toBe("pvapp-ci-build");
    expect((await kiln.waitFor(second.id, ["running", "failed"])).status).toBe("running");
    await until("pvapp-ci-build", (b) => b.version === "upload-v2");
    expect((await previewNames()).filter((n) => n === "pvapp-ci-build")).toHaveLength(1);

    // bad input: no ref, a bad ref, an unknown app; nothing made
    expect((await kiln.api(`/deployments/pvapp/previews/upload`, { method: "POST", body: await tarOf(dir) })).status).toBe(400);
    expect((await kiln.api(`/deployments/pvapp/previews/upload?ref=-x`, { method: "POST", body: await tarOf(dir) })).status).toBe(400);
    expect((await kiln.api(`/deployments/nope/previews/upload?ref=a`, { method: "POST", body: await tarOf(dir) })).status).toBe(404);
    expect((await fetch(`${kiln.apiUrl}/api/v1/deployments/pvapp/previews/upload?ref=a`, { method: "POST", body: "x" })).status).toBe(401);
    await kiln.api(`/deployments/pvapp-ci-build`, { method: "DELETE" });
  }, 240_000);

  test("bad input: unknown app 404, bad ref 400, a preview of a preview 400, previews off 409 with the hint", async () => {
    const post = async (id: string, body: unknown) => {
      const res = await kiln.api(`/deployments/${id}/previews`, send("POST", body));
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await post("nope", { ref: "main" })).status).toBe(404);
    expect((await kiln.api(`/deployments/nope/previews`)).status).toBe(404);
    expect((await post("pvapp", { ref: "a b" })).status).toBe(400);
    expect((await post("pvapp", { ref: "-x" })).status).toBe(400);
    expect((await post("pvapp", {})).status).toBe(400);
    expect((await post("pvapp-pr-8", { ref: "main" })).status).toBe(400);
    await setPreviews({ enabled: false });
    const off = await post("pvapp", { ref: "main" });
    expect(off.status).toBe(409);
    expect(off.body.error.hint).toBe("PATCH settings {previews: {enabled: true}}");
    expect((await fetch(`${kiln.apiUrl}/api/v1/deployments/pvapp/previews`)).status).toBe(401);
    expect(await previewNames()).toEqual(["pvapp-feature", "pvapp-pr-8"]);
  }, 60_000);
});

describe("TTL and max", () => {
  test("past max the oldest goes; past the TTL all go; each removal logged on the app with why", async () => {
    await setPreviews({ enabled: true, max: 1, ttl: 0.05 });
    const removed = await kiln.previews.sweep();
    expect(removed).toEqual([{ name: "pvapp-pr-8", why: "more than previews.max (1): the oldest goes" }]);
    expect(await previewNames()).toEqual(["pvapp-feature"]);
    // 0.05 h is three minutes: the sweep is run as if an hour had passed
    const later = await kiln.previews.sweep(Date.now() + 3_600_000);
    expect(later).toEqual([{ name: "pvapp-feature", why: "older than previews.ttl (0.05 h)" }]);
    expect(await previewNames()).toEqual([]);
    expect((await kiln.viaSubdomain("pvapp-feature")).status).not.toBe(200);
    const lines = await kiln.logs(parentId, { until: (ls) => ls.some((l) => l.text.includes("preview pvapp-feature removed: older than previews.ttl")), timeoutMs: 5000 });
    expect(lines.some((l) => l.text === "preview pvapp-pr-8 removed: more than previews.max (1): the oldest goes")).toBe(true);
  }, 60_000);

  test("removing the app removes its previews", async () => {
    const res = await kiln.api(`/deployments/pvapp/previews`, send("POST", { ref: "main" }));
    expect(res.status).toBe(202);
    const preview = (await res.json()) as any;
    expect((await kiln.api(`/deployments/${parentId}`, { method: "DELETE" })).status).toBe(204);
    expect((await kiln.api(`/deployments/${preview.id}`)).status).toBe(404);
    expect(await kiln.runtime.listContainers({ "kiln.deployment": preview.id })).toEqual([]);
  }, 60_000);
});

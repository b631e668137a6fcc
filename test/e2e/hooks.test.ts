/**
 * Deploy on push against a real git daemon, the real engine and Caddy: a signed GitHub push builds
 * the pushed commit and serves it; wrong signature 401 and no build; another branch ignored; a
 * repeated delivery builds nothing; GitLab, Gitea and generic calls work; three quick pushes build
 * the newest (fewer builds than pushes); oversize 413; unknown id 404; and the hook answers through
 * Caddy's public port at /_kiln/hooks/<id>. One Kiln, one git app; the tests run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { commitFiles, makeRepo, startGitDaemon, type GitDaemon } from "../helpers/git-daemon.ts";

const FIXTURE = join(import.meta.dir, "../fixtures/apps/day-two");
let kiln: TestKiln;
let gitd: GitDaemon;
let repo: string;
let id: string;
let secret: string;
let hookUrl: string;
let publicUrl: string;

const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const hmac = (body: string) => createHmac("sha256", secret).update(body).digest("hex");

function files(version: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(FIXTURE)) out[f] = readFileSync(join(FIXTURE, f), "utf8");
  out.VERSION = `${version}\n`;
  return out;
}

const pushPayload = (branch: string, after: string) =>
  JSON.stringify({ ref: `refs/heads/${branch}`, before: "0".repeat(39) + "1", after, repository: { full_name: "acme/hooked", default_branch: "main" }, commits: [{ id: after, message: "change" }] });

/** POST to the receiver with no API token: only the headers given. */
function deliver(headers: Record<string, string>, body: string, url = hookUrl): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}
const githubPush = (branch: string, after: string, delivery = randomUUID(), sign = hmac) => {
  const body = pushPayload(branch, after);
  return deliver({ "x-github-event": "push", "x-github-delivery": delivery, "x-hub-signature-256": `sha256=${sign(body)}` }, body);
};

async function builds(): Promise<any[]> {
  return ((await (await kiln.api(`/deployments/${id}/builds`)).json()) as any).builds;
}
async function releases(): Promise<any[]> {
  return ((await (await kiln.api(`/deployments/${id}/releases`)).json()) as any).releases;
}
async function version(): Promise<string | null> {
  const res = await kiln.viaSubdomain("hooked");
  if (res.status !== 200) return null;
  return ((await res.json()) as any).version;
}
/** Until the app serves `v` and no build is queued or running (bounded). */
async function serving(v: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await version().catch(() => null);
    const busy = (await builds()).some((b) => b.status === "queued" || b.status === "running");
    if (last === v && !busy) return;
    await Bun.sleep(300);
  }
  throw new Error(`the app did not come to serve ${v} (last ${last})`);
}
/** No build appears in `ms` (the answer said nothing was queued; make sure). */
async function noNewBuild(before: number, ms = 1500): Promise<void> {
  await Bun.sleep(ms);
  expect((await builds()).length).toBe(before);
}

beforeAll(async () => {
  kiln = await startTestKiln();
  gitd = await startGitDaemon();
  repo = gitd.repoDir("hooked.git");
  makeRepo(repo, files("v1"));
  const res = await kiln.api("/deployments", json({ gitUrl: gitd.url("hooked.git"), name: "hooked" }));
  expect(res.status).toBe(202);
  id = ((await res.json()) as any).id;
  expect((await kiln.waitFor(id, ["running", "failed"])).status).toBe("running");
}, 240_000);

afterAll(async () => {
  await kiln?.rollout.settled();
  await kiln?.stop();
  await gitd?.stop();
}, 90_000);

describe("the webhook", () => {
  test("POST …/webhook → 201 with url, publicUrl and the secret; GET never shows it; POST again rotates", async () => {
    const first = await kiln.api(`/deployments/hooked/webhook`, { method: "POST" });
    expect(first.status).toBe(201);
    const a = (await first.json()) as any;
    expect(a.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const made = await kiln.api(`/deployments/${id}/webhook`, { method: "POST" });
    expect(made.status).toBe(201);
    const body = (await made.json()) as any;
    expect(body.rotated).toBe(true);
    expect(body.secret).not.toBe(a.secret);
    expect(body.url).toBe(`${kiln.apiUrl}/api/v1/hooks/${id}`);
    expect(body.publicUrl).toBe(`http://localhost:${kiln.publicPort}/_kiln/hooks/${id}`);
    expect(Object.keys(body.hints).sort()).toEqual(["generic", "gitea", "github", "gitlab"]);
    secret = body.secret;
    hookUrl = body.url;
    publicUrl = body.publicUrl;

    const got = await (await kiln.api(`/deployments/${id}/webhook`)).text();
    expect(JSON.parse(got)).toMatchObject({ configured: true, url: hookUrl, publicUrl });
    expect(got).not.toContain(secret);
    // The old secret no longer works.
    const old = pushPayload("main", "a".repeat(40));
    expect((await deliver({ "x-github-event": "push", "x-hub-signature-256": `sha256=${createHmac("sha256", a.secret).update(old).digest("hex")}` }, old)).status).toBe(401);
  });

  test("a signed GitHub push of the tracked branch builds that commit; the new content is served; build and release record it", async () => {
    const sha = commitFiles(repo, files("v2"), "v2");
    const res = await githubPush("main", sha);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "queued", commit: sha, branch: "main" });
    await serving("v2");
    const [latest] = await builds();
    expect(latest.commit).toBe(sha);
    expect(latest.status).toBe("succeeded");
    const [release] = await releases();
    expect(release).toMatchObject({ via: "webhook", trigger: "redeploy" });
    expect(release.description).toContain(sha.slice(0, 12));
  }, 200_000);

  test("a wrong signature → 401 and no build; no signature → 401", async () => {
    const before = (await builds()).length;
    const sha = commitFiles(repo, files("v-bad"), "not to be built");
    const res = await githubPush("main", sha, randomUUID(), (b) => createHmac("sha256", "not-the-secret").update(b).digest("hex"));
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.kind).toBe("unauthorized");
    const none = await deliver({ "x-github-event": "push" }, pushPayload("main", sha));
    expect(none.status).toBe(401);
    await noNewBuild(before);
    expect(await version()).toBe("v2");
  }, 30_000);

  test("a push to another branch → 202 ignored, saying why; no build", async () => {
    const before = (await builds()).length;
    const res = await githubPush("feature", "b".repeat(40));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "ignored", why: "push to feature; hooked tracks main" });
    await noNewBuild(before);
  }, 30_000);

  test("a repeated delivery id builds nothing new", async () => {
    const sha = commitFiles(repo, files("v3"), "v3");
    const delivery = randomUUID();
    expect((await githubPush("main", sha, delivery)).status).toBe(202);
    const before = (await builds()).length;
    const again = await githubPush("main", sha, delivery);
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).status).toBe("duplicate");
    await serving("v3");
    expect((await builds()).length).toBe(before);
  }, 200_000);

  test("GitLab: X-Gitlab-Token and a Push Hook", async () => {
    const sha = commitFiles(repo, files("v4-gitlab"), "v4");
    const body = JSON.stringify({ object_kind: "push", ref: "refs/heads/main", before: "1".repeat(40), after: sha, checkout_sha: sha, project: { id: 15, default_branch: "main" } });
    const wrong = await deliver({ "x-gitlab-event": "Push Hook", "x-gitlab-token": "nope" }, body);
    expect(wrong.status).toBe(401);
    const res = await deliver({ "x-gitlab-event": "Push Hook", "x-gitlab-token": secret, "x-gitlab-event-uuid": randomUUID() }, body);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "queued", commit: sha });
    await serving("v4-gitlab");
    expect((await builds())[0].commit).toBe(sha);
  }, 200_000);

  test("Gitea/Forgejo: X-Gitea-Signature", async () => {
    const sha = commitFiles(repo, files("v5-gitea"), "v5");
    const body = JSON.stringify({ ref: "refs/heads/main", before: "1".repeat(40), after: sha, repository: { full_name: "acme/hooked", default_branch: "main" } });
    const res = await deliver({ "x-gitea-event": "push", "x-github-event": "push", "x-gitea-delivery": randomUUID(), "x-gitea-signature": hmac(body) }, body);
    expect(res.status).toBe(202);
    await serving("v5-gitea");
    expect((await builds())[0].commit).toBe(sha);
  }, 200_000);

  test("generic: Authorization: Bearer <secret> redeploys the tracked branch", async () => {
    const sha = commitFiles(repo, files("v6-generic"), "v6");
    expect((await deliver({ authorization: "Bearer wrong" }, "")).status).toBe(401);
    const res = await deliver({ authorization: `Bearer ${secret}` }, "");
    expect(res.status).toBe(202);
    expect(((await res.json()) as any).status).toBe("queued");
    await serving("v6-generic");
    expect((await builds())[0].commit).toBe(sha);
    expect((await releases())[0].via).toBe("webhook");
  }, 200_000);

  test("three pushes in quick succession build the newest, with fewer builds than pushes", async () => {
    const before = (await builds()).length;
    const shas = ["v7", "v8", "v9"].map((v) => commitFiles(repo, files(v), v));
    for (const sha of shas) expect((await githubPush("main", sha)).status).toBe(202);
    await serving("v9");
    const all = await builds();
    const made = all.length - before;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThan(3);
    expect(all[0].commit).toBe(shas[2]);
    expect(all.slice(0, made).map((b) => b.commit)).not.toContain(shas[1]);
    const lines = await kiln.logs(id, { timeoutMs: 3000, until: (ls) => ls.some((l) => l.text.includes(`${shas[1]!.slice(0, 12)} will not be built`)) });
    expect(lines.some((l) => l.text.includes(`commit ${shas[1]!.slice(0, 12)} will not be built: ${shas[2]!.slice(0, 12)} was pushed after it`))).toBe(true);
  }, 240_000);

  test("a payload over 1 MiB → 413 and no build", async () => {
    const before = (await builds()).length;
    const big = JSON.stringify({ ref: "refs/heads/main", after: "c".repeat(40), pad: "x".repeat(1024 * 1024 + 10) });
    const res = await deliver({ "x-github-event": "push", "x-hub-signature-256": `sha256=${hmac(big)}` }, big);
    expect(res.status).toBe(413);
    await noNewBuild(before, 500);
  }, 30_000);

  test("an unknown id → 404, without any token; the receiver path needs none but nothing else is opened", async () => {
    const res = await deliver({ authorization: `Bearer ${secret}` }, "", `${kiln.apiUrl}/api/v1/hooks/no-such-deployment`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toBe("no webhook here");
    // Other paths under /api/v1 still need the API token.
    expect((await fetch(`${kiln.apiUrl}/api/v1/deployments/${id}/webhook`)).status).toBe(401);
    expect((await fetch(`${kiln.apiUrl}/api/v1/hooks/${id}/x`, { method: "POST" })).status).toBe(401);
  });

  test("through Caddy's public port at /_kiln/hooks/<id>: a signed push is built and served", async () => {
    const sha = commitFiles(repo, files("v10-caddy"), "v10");
    const body = pushPayload("main", sha);
    const res = await deliver({ "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": `sha256=${hmac(body)}` }, body, `http://127.0.0.1:${kiln.publicPort}/_kiln/hooks/${id}`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "queued", commit: sha });
    await serving("v10-caddy");
    expect((await builds())[0].commit).toBe(sha);
  }, 200_000);

  test("DELETE …/webhook → 204; deliveries then 404", async () => {
    expect((await kiln.api(`/deployments/${id}/webhook`, { method: "DELETE" })).status).toBe(204);
    expect(await (await kiln.api(`/deployments/${id}/webhook`)).json()).toMatchObject({ configured: false, createdAt: null });
    expect((await githubPush("main", "d".repeat(40))).status).toBe(404);
  });
});

import { describe, expect, test } from "bun:test";
import { SqliteStore } from "../adapters/store/sqlite.ts";
import type { Deployment, SourceSpec } from "../core/deployment.ts";
import { KilnError } from "../core/errors.ts";
import { DEFAULT_SETTINGS } from "../core/settings.ts";
import { HookService } from "./hook-service.ts";
import { hmacHex } from "./verify.ts";

const SHA1 = "1".repeat(40);
const SHA2 = "2".repeat(40);

function deployment(id: string, source: SourceSpec, status: Deployment["status"] = "running"): Deployment {
  return { id, name: id, source, envKeys: [], networks: [], settings: { ...DEFAULT_SETTINGS }, status, currentBuildId: null, currentReleaseId: null, failureReason: null, instances: [], preview: null, createdAt: 1, updatedAt: 1 };
}

async function world() {
  const store = SqliteStore.open(":memory:");
  await store.deployments.insert(deployment("app", { kind: "git", url: "git://x/app", hasToken: false }));
  await store.deployments.insert(deployment("pinned", { kind: "git", url: "git://x/app", ref: "release", hasToken: false }));
  await store.deployments.insert(deployment("tar", { kind: "tarball", uploadId: "u" }));
  await store.deployments.insert(deployment("nohook", { kind: "git", url: "git://x/app", hasToken: false }));
  const redeploys: Array<{ id: string; via: string; commit?: string }> = [];
  const hooks = new HookService({
    store,
    deployments: {
      get: async (id) => {
        const d = await store.deployments.get(id);
        if (!d) throw new KilnError("not_found", "no");
        return d;
      },
      redeploy: async (id, via, opts) => {
        redeploys.push({ id, via, commit: opts?.commit });
        return (await store.deployments.get(id))!;
      },
    },
    log: () => {},
    maxBodyBytes: 4096,
  });
  const secrets: Record<string, string> = {};
  for (const id of ["app", "pinned", "tar"]) secrets[id] = (await hooks.create(id)).secret;
  return { store, hooks, redeploys, secrets };
}

const push = (branch: string, after: string, defaultBranch = "main") => JSON.stringify({ ref: `refs/heads/${branch}`, after, repository: { default_branch: defaultBranch } });
const github = (secret: string, body: string, delivery: string = crypto.randomUUID(), event = "push") =>
  new Headers({ "x-github-event": event, "x-github-delivery": delivery, "x-hub-signature-256": `sha256=${hmacHex(secret, new TextEncoder().encode(body))}` });
const stream = (s: string) => new Response(s).body;
const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (e instanceof KilnError ? e.kind : String(e)));

describe("HookService", () => {
  test("secrets: 32 random bytes, base64url, kept under deployment/<id>/webhook-secret, never in describe, rotated", async () => {
    const { hooks, secrets, store } = await world();
    expect(secrets.app).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await hooks.describe("app")).toMatchObject({ configured: true });
    expect(JSON.stringify(await hooks.describe("app"))).not.toContain(secrets.app!);
    const again = await hooks.create("app");
    expect(again.rotated).toBe(true);
    expect(again.secret).not.toBe(secrets.app);
    const body = push("main", SHA1);
    expect(await refusal(hooks.receive("app", github(secrets.app!, body), stream(body)))).toBe("unauthorized");
    expect((await store.secrets.list("deployment/app/")).includes("deployment/app/webhook-secret")).toBe(true);
  });

  test("an unknown deployment and one without a hook get the same 404", async () => {
    const { hooks } = await world();
    const body = push("main", SHA1);
    const errs = await Promise.all(["nope", "nohook", "../x"].map((id) => hooks.receive(id, github("x", body), stream(body)).catch((e: KilnError) => [e.kind, e.message])));
    expect(errs[0]).toEqual(["not_found", "no webhook here"]);
    expect(errs[1]).toEqual(errs[0]);
    expect(errs[2]).toEqual(errs[0]);
  });

  test("a bad signature: 401, nothing recorded (the same delivery id then works)", async () => {
    const { hooks, secrets, redeploys } = await world();
    const body = push("main", SHA1);
    expect(await refusal(hooks.receive("app", github("wrong", body, "d-1"), stream(body)))).toBe("unauthorized");
    expect(redeploys).toEqual([]);
    const ok = await hooks.receive("app", github(secrets.app!, body, "d-1"), stream(body));
    expect(ok).toEqual({ status: 202, body: { status: "queued", commit: SHA1, branch: "main", message: `building ${SHA1.slice(0, 12)} of main` } });
    expect(redeploys).toEqual([{ id: "app", via: "webhook", commit: SHA1 }]);
  });

  test("over the cap: by Content-Length, and while streaming without one", async () => {
    const { hooks, secrets, redeploys } = await world();
    const big = JSON.stringify({ pad: "x".repeat(5000) });
    const h = github(secrets.app!, big);
    h.set("content-length", String(big.length));
    expect(await refusal(hooks.receive("app", h, stream(big)))).toBe("too_large");
    expect(await refusal(hooks.receive("app", github(secrets.app!, big), stream(big)))).toBe("too_large");
    expect(redeploys).toEqual([]);
  });

  test("a repeated delivery id builds nothing", async () => {
    const { hooks, secrets, redeploys } = await world();
    const body = push("main", SHA1);
    await hooks.receive("app", github(secrets.app!, body, "same"), stream(body));
    const again = await hooks.receive("app", github(secrets.app!, body, "same"), stream(body));
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("duplicate");
    expect(redeploys.length).toBe(1);
  });

  test("tracked branch: the deployment's ref, else the repository's default branch", async () => {
    const { hooks, secrets, redeploys } = await world();
    const other = push("feature", SHA1);
    expect(await hooks.receive("app", github(secrets.app!, other), stream(other))).toEqual({ status: 202, body: { status: "ignored", why: "push to feature; app tracks main" } });
    const main = push("main", SHA2);
    expect((await hooks.receive("pinned", github(secrets.pinned!, main), stream(main))).body).toEqual({ status: "ignored", why: "push to main; pinned tracks release" });
    const release = push("release", SHA2);
    expect((await hooks.receive("pinned", github(secrets.pinned!, release), stream(release))).body.status).toBe("queued");
    expect(redeploys).toEqual([{ id: "pinned", via: "webhook", commit: SHA2 }]);
  });

  test("ping 200; a tarball deployment's push ignored; pull requests without previews ignored; generic redeploys", async () => {
    const { hooks, secrets, redeploys } = await world();
    const ping = JSON.stringify({ zen: "Keep it logically awesome." });
    expect((await hooks.receive("app", github(secrets.app!, ping, undefined, "ping"), stream(ping))).status).toBe(200);
    const body = push("main", SHA1);
    expect((await hooks.receive("tar", github(secrets.tar!, body), stream(body))).body).toMatchObject({ status: "ignored", why: expect.stringContaining("tarball") });
    const pr = JSON.stringify({ action: "opened", number: 1, pull_request: { head: { sha: SHA1, ref: "x", repo: { full_name: "a/b" } }, base: { repo: { full_name: "a/b" } } } });
    expect((await hooks.receive("app", github(secrets.app!, pr, undefined, "pull_request"), stream(pr))).body).toEqual({ status: "ignored", why: "previews are not set up on this Kiln" });
    const generic = await hooks.receive("tar", new Headers({ authorization: `Bearer ${secrets.tar}` }), null);
    expect(generic.status).toBe(202);
    expect(redeploys).toEqual([{ id: "tar", via: "webhook", commit: undefined }]);
  });

  test("a pull request goes to onPullRequest with the parent, the event and the provider", async () => {
    const { hooks, secrets } = await world();
    const seen: unknown[] = [];
    hooks.onPullRequest = async (parent, ev, provider) => {
      seen.push([parent.id, ev.number, ev.action, provider]);
      return { status: "queued", message: "preview app-pr-9 building" };
    };
    const pr = JSON.stringify({ action: "reopened", number: 9, pull_request: { head: { sha: SHA1, ref: "x", repo: { full_name: "a/b" } }, base: { repo: { full_name: "a/b" } } } });
    expect(await hooks.receive("app", github(secrets.app!, pr, undefined, "pull_request"), stream(pr))).toEqual({ status: 202, body: { status: "queued", message: "preview app-pr-9 building" } });
    expect(seen).toEqual([["app", 9, "open", "github"]]);
  });

  test("remove: deliveries then get 404", async () => {
    const { hooks, secrets } = await world();
    await hooks.remove("app");
    expect((await hooks.describe("app")).configured).toBe(false);
    const body = push("main", SHA1);
    expect(await refusal(hooks.receive("app", github(secrets.app!, body), stream(body)))).toBe("not_found");
    expect(await refusal(hooks.remove("app"))).toBe("not_found");
  });
});

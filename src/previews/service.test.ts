import { describe, expect, test } from "bun:test";
import type { Deployment } from "../core/deployment.ts";
import type { AppEnv } from "../core/env.ts";
import { conflict, notFound } from "../core/errors.ts";
import type { PullRequestEvent } from "../core/hooks.ts";
import { Secret } from "../core/secret.ts";
import { DEFAULT_SETTINGS, type PreviewSettings } from "../core/settings.ts";
import type { GitDeployRequest } from "../deploy/service.ts";
import { PreviewService } from "./service.ts";

/** DeploymentService and the store, in memory: what PreviewService calls, recorded. */
function world(previews: Partial<PreviewSettings> = {}, opts: { tarball?: boolean; busy?: number } = {}) {
  const rows = new Map<string, Deployment>();
  const created: GitDeployRequest[] = [];
  const redeploys: string[] = [];
  const commits: (string | undefined)[] = [];
  const removed: string[] = [];
  const logs: string[] = [];
  let busy = opts.busy ?? 0;
  let clock = 1_000_000;
  const parent: Deployment = {
    id: "app1",
    name: "shop",
    source: opts.tarball ? { kind: "tarball", uploadId: "u1" } : { kind: "git", url: "https://git.example/shop.git", ref: "main", hasToken: true },
    envKeys: ["API_KEY", "PUBLIC_URL"],
    networks: ["shared-db"],
    settings: { ...DEFAULT_SETTINGS, replicas: 3, volumes: [{ name: "data", path: "/data" }], previews: { ...DEFAULT_SETTINGS.previews, enabled: true, ...previews } },
    status: "running",
    currentBuildId: null,
    currentReleaseId: null,
    failureReason: null,
    instances: [],
    preview: null,
    createdAt: 0,
    updatedAt: 0,
  };
  rows.set(parent.id, parent);
  const env: AppEnv = {
    API_KEY: { value: new Secret("k-123"), secret: true, buildTime: false },
    PUBLIC_URL: { value: new Secret("https://x"), secret: false, buildTime: false },
  };
  const get = async (id: string) => {
    const d = rows.get(id) ?? [...rows.values()].find((r) => r.name === id);
    if (!d) throw notFound(`no deployment ${id}`);
    return d;
  };
  const svc = new PreviewService({
    now: () => clock,
    retryEveryMs: 5,
    log: (id, text) => logs.push(`${id}: ${text}`),
    store: {
      deployments: {
        list: async () => [...rows.values()],
        get: async (id: string) => rows.get(id) ?? null,
        update: async (id: string, patch: Partial<Deployment>) => {
          const next = { ...rows.get(id)!, ...patch };
          rows.set(id, next);
          return next;
        },
      } as any,
    },
    deployments: {
      get,
      appEnv: async () => env,
      gitToken: async () => "tok-1",
      createFromGit: async (req: GitDeployRequest) => {
        created.push(req);
        const d: Deployment = { ...parent, id: `p${created.length}`, name: req.name!, source: { kind: "git", url: req.gitUrl, ref: req.ref, hasToken: !!req.gitToken }, preview: req.preview!, settings: req.settings!, createdAt: clock };
        rows.set(d.id, d);
        return d;
      },
      createFromUpload: async () => {
        throw new Error("not used in these tests (test/e2e/previews.test.ts covers uploads)");
      },
      redeploy: async (id: string, _via?: string, o: { commit?: string } = {}) => {
        commits.push(o.commit);
        if (o.commit === undefined && busy-- > 0) throw conflict("busy");
        redeploys.push(id);
        return get(id);
      },
      remove: async (id: string) => {
        removed.push(id);
        rows.delete(id);
        return { volumesKept: [] };
      },
    },
  });
  return { svc, parent, rows, created, redeploys, commits, removed, logs, tick: (ms: number) => (clock += ms) };
}

const pr = (action: PullRequestEvent["action"], extra: Partial<PullRequestEvent> = {}): PullRequestEvent => ({
  kind: "pull_request",
  action,
  number: 7,
  headSha: "a".repeat(40),
  headRef: "feature/x",
  cloneUrl: "https://git.example/someone/shop.git",
  fork: false,
  ...extra,
});

describe("pull requests", () => {
  test("opened: a preview <app>-pr-<n> from the app's repository at the head branch, with the app's token", async () => {
    const w = world();
    const out = await w.svc.onPullRequest(w.parent, pr("open"), "github");
    expect(out.status).toBe("created");
    const req = w.created[0]!;
    expect(req).toMatchObject({ name: "shop-pr-7", gitUrl: "https://git.example/shop.git", ref: "feature/x", gitToken: "tok-1", via: "webhook" });
    expect(req.preview).toMatchObject({ parentId: "app1", number: 7, ref: "feature/x", commit: "a".repeat(40), fork: false });
    expect(req.settings!.replicas).toBe(1);
    expect(req.settings!.volumes).toEqual([]);
    expect(Object.keys(req.env!)).toEqual(["PUBLIC_URL"]);
    expect(req.networks).toEqual([]);
    expect(w.logs.some((l) => l.startsWith("app1: preview shop-pr-7 of pull request #7 created"))).toBe(true);
  });

  test("secrets (and the app's networks) only when the app allows them", async () => {
    const w = world({ secrets: true });
    await w.svc.onPullRequest(w.parent, pr("open"), "github");
    expect(Object.keys(w.created[0]!.env!).sort()).toEqual(["API_KEY", "PUBLIC_URL"]);
    expect(w.created[0]!.networks).toEqual(["shared-db"]);
  });

  test("a fork: its own repository, no token, never secrets, even with secrets on", async () => {
    const w = world({ secrets: true, forks: true });
    await w.svc.onPullRequest(w.parent, pr("open", { fork: true }), "github");
    const req = w.created[0]!;
    expect(req.gitUrl).toBe("https://git.example/someone/shop.git");
    expect(req.gitToken).toBeUndefined();
    expect(Object.keys(req.env!)).toEqual(["PUBLIC_URL"]);
    expect(req.preview!.fork).toBe(true);
  });

  test("ignored, saying why: previews off, forks off, a tarball app, a preview's own hook", async () => {
    const off = world({ enabled: false });
    expect(await off.svc.onPullRequest(off.parent, pr("open"), "github")).toEqual({ status: "ignored", message: "previews are off for shop: PATCH settings {previews: {enabled: true}}" });
    const forks = world();
    expect((await forks.svc.onPullRequest(forks.parent, pr("open", { fork: true }), "github")).message).toContain("{previews: {enabled: true, forks: true}}");
    const tar = world({}, { tarball: true });
    expect((await tar.svc.onPullRequest(tar.parent, pr("open"), "github")).message).toContain("tarball");
    const w = world();
    await w.svc.onPullRequest(w.parent, pr("open"), "github");
    const preview = w.rows.get("p1")!;
    expect((await w.svc.onPullRequest(preview, pr("open"), "github")).status).toBe("ignored");
    for (const x of [off, forks, tar]) expect(x.created).toEqual([]);
    expect(w.created.length).toBe(1);
  });

  test("synchronize: the existing preview builds exactly the new head commit", async () => {
    const w = world({}, { busy: 2 });
    await w.svc.onPullRequest(w.parent, pr("open"), "github");
    const out = await w.svc.onPullRequest(w.parent, pr("update", { headSha: "b".repeat(40) }), "github");
    expect(out).toEqual({ status: "redeployed", message: `preview shop-pr-7 redeploying at ${"b".repeat(12)}` });
    expect(w.commits).toEqual(["b".repeat(40)]);
    expect(w.rows.get("p1")!.preview!.commit).toBe("b".repeat(40));
  });

  test("synchronize without a full sha: the branch's head, after the build in progress", async () => {
    const w = world({}, { busy: 2 });
    await w.svc.onPullRequest(w.parent, pr("open"), "github");
    const out = await w.svc.onPullRequest(w.parent, pr("update", { headSha: "b".repeat(7) }), "github");
    expect(out).toMatchObject({ status: "redeployed" });
    expect(out.message).toContain("queued after the build in progress");
    expect(w.rows.get("p1")!.preview!.commit).toBe("b".repeat(7));
    for (let i = 0; i < 100 && w.redeploys.length === 0; i++) await Bun.sleep(5);
    expect(w.redeploys).toEqual(["p1"]);
    expect(w.created.length).toBe(1);
  });

  test("closed: the preview is removed and the app's log says so; a second close is ignored", async () => {
    const w = world();
    await w.svc.onPullRequest(w.parent, pr("open"), "github");
    expect(await w.svc.onPullRequest(w.parent, pr("close"), "github")).toMatchObject({ status: "removed" });
    expect(w.removed).toEqual(["p1"]);
    expect(w.logs.at(-1)).toBe("app1: preview shop-pr-7 removed: pull request #7 closed");
    expect((await w.svc.onPullRequest(w.parent, pr("close"), "github")).status).toBe("ignored");
  });
});

describe("previews of a ref", () => {
  test("named after the ref; the same ref again redeploys it", async () => {
    const w = world();
    const d = await w.svc.fromRef(w.parent, "feature/Login");
    expect(d.name).toBe("shop-feature-login");
    expect(w.created[0]).toMatchObject({ gitUrl: "https://git.example/shop.git", ref: "feature/Login", via: "api" });
    await w.svc.fromRef(w.parent, "feature/Login");
    expect(w.created.length).toBe(1);
    expect(w.redeploys).toEqual([d.id]);
    expect((await w.svc.list(w.parent)).map((p) => p.name)).toEqual(["shop-feature-login"]);
  });

  test("refused: previews off (409 with the hint), a preview of a preview, a tarball app (400)", async () => {
    const off = world({ enabled: false });
    await expect(off.svc.fromRef(off.parent, "main")).rejects.toMatchObject({ kind: "conflict", hint: "PATCH settings {previews: {enabled: true}}" });
    const w = world();
    const d = await w.svc.fromRef(w.parent, "dev");
    await expect(w.svc.fromRef(d, "dev")).rejects.toMatchObject({ kind: "bad_request" });
    const tar = world({}, { tarball: true });
    await expect(tar.svc.fromRef(tar.parent, "main")).rejects.toMatchObject({ kind: "bad_request" });
  });
});

describe("the sweeper", () => {
  test("removes previews past the TTL and past max (the oldest), logging why on the app", async () => {
    const w = world({ ttlHours: 1, max: 2 });
    await w.svc.fromRef(w.parent, "one");
    w.tick(10_000);
    await w.svc.fromRef(w.parent, "two");
    w.tick(10_000);
    await w.svc.fromRef(w.parent, "three"); // its creation sweeps: "one" goes (max 2)
    for (let i = 0; i < 100 && w.removed.length === 0; i++) await Bun.sleep(5);
    expect(w.removed).toEqual(["p1"]);
    expect(w.logs).toContain("app1: preview shop-one removed: more than previews.max (2): the oldest goes");
    w.tick(2 * 3_600_000);
    const out = await w.svc.sweep();
    expect(out.map((o) => o.name).sort()).toEqual(["shop-three", "shop-two"]);
    expect(w.logs).toContain("app1: preview shop-two removed: older than previews.ttl (1 h)");
  });

  test("removes previews whose app is gone", async () => {
    const w = world();
    await w.svc.fromRef(w.parent, "dev");
    w.rows.delete("app1");
    expect(await w.svc.sweep()).toEqual([{ name: "shop-dev", why: "its app is gone" }]);
  });
});

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readDelivery } from "./delivery.ts";
import { hmacHex } from "./verify.ts";

const SECRET = "s3cr3t-Kiln-hook";
const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dir, "testdata", name)));
const gh = (event: string, body: Uint8Array, secret = SECRET) =>
  new Headers({ "x-github-event": event, "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-hub-signature-256": `sha256=${hmacHex(secret, body)}`, "content-type": "application/json" });
const read = (h: Headers, body: Uint8Array) => readDelivery(h, body, SECRET);
const eventOf = (h: Headers, body: Uint8Array) => {
  const r = read(h, body);
  if (!r.ok) throw new Error(r.message);
  return r.delivery.event;
};

describe("GitHub", () => {
  test("a push: branch, the `after` commit, the default branch, the delivery id", () => {
    const body = fixture("github-push.json");
    const r = read(gh("push", body), body);
    expect(r).toEqual({ ok: true, delivery: { provider: "github", deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958", event: { kind: "push", branch: "main", commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", defaultBranch: "main" } } });
  });

  test("a branch deletion and a tag push are ignored, saying why", () => {
    const del = fixture("github-push-delete.json");
    expect(eventOf(gh("push", del), del)).toEqual({ kind: "ignored", why: "branch feature was deleted" });
    const tag = fixture("github-push-tag.json");
    expect(eventOf(gh("push", tag), tag)).toMatchObject({ kind: "ignored", why: expect.stringContaining("tag push (v1.2.0)") });
  });

  test("ping", () => {
    const body = fixture("github-ping.json");
    expect(eventOf(gh("ping", body), body)).toEqual({ kind: "ping" });
  });

  test("pull_request opened from a fork; synchronize from the same repository; closed; labeled ignored", () => {
    const opened = fixture("github-pr-opened-fork.json");
    expect(eventOf(gh("pull_request", opened), opened)).toEqual({
      kind: "pull_request", action: "open", number: 42, headSha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", headRef: "fix-total", cloneUrl: "https://github.com/contributor/shop.git", fork: true,
    });
    const sync = fixture("github-pr-synchronize.json");
    expect(eventOf(gh("pull_request", sync), sync)).toEqual({
      kind: "pull_request", action: "update", number: 7, headSha: "34c5c7793cb3b279e22454cb6750c80560547b3a", headRef: "feature-x", cloneUrl: "https://github.com/acme/shop.git", fork: false,
    });
    const closed = fixture("github-pr-closed.json");
    expect(eventOf(gh("pull_request", closed), closed)).toMatchObject({ kind: "pull_request", action: "close", number: 7 });
    const labeled = fixture("github-pr-labeled.json");
    expect(eventOf(gh("pull_request", labeled), labeled)).toMatchObject({ kind: "ignored" });
  });

  test("other events are ignored", () => {
    const body = new TextEncoder().encode("{}");
    expect(eventOf(gh("issues", body), body)).toMatchObject({ kind: "ignored", why: expect.stringContaining("issues") });
  });

  test("a wrong secret, a changed body, a missing or malformed signature: unauthorized", () => {
    const body = fixture("github-push.json");
    expect(read(gh("push", body, "another-secret"), body)).toMatchObject({ ok: false, why: "unauthorized" });
    const tampered = new Uint8Array(body);
    tampered[20] = tampered[20]! ^ 1;
    expect(read(gh("push", body), tampered)).toMatchObject({ ok: false, why: "unauthorized" });
    const h = gh("push", body);
    h.delete("x-hub-signature-256");
    expect(read(h, body)).toMatchObject({ ok: false, why: "unauthorized" });
    h.set("x-hub-signature-256", hmacHex(SECRET, body)); // without "sha256="
    expect(read(h, body)).toMatchObject({ ok: false, why: "unauthorized" });
    h.set("x-hub-signature-256", "sha256=abc");
    expect(read(h, body)).toMatchObject({ ok: false, why: "unauthorized" });
  });

  test("no known header at all: unauthorized", () => {
    expect(read(new Headers({ "content-type": "application/json" }), new Uint8Array())).toMatchObject({ ok: false, why: "unauthorized" });
  });

  test("a signed body that is not JSON: bad payload", () => {
    const body = new TextEncoder().encode("payload=%7B%7D");
    expect(read(gh("push", body), body)).toMatchObject({ ok: false, why: "bad_payload" });
  });
});

describe("GitLab", () => {
  const gl = (event: string, token = SECRET) => new Headers({ "x-gitlab-event": event, "x-gitlab-token": token, "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e" });

  test("Push Hook: checkout_sha, the project's default branch, the event uuid", () => {
    const body = fixture("gitlab-push.json");
    expect(read(gl("Push Hook"), body)).toEqual({ ok: true, delivery: { provider: "gitlab", deliveryId: "13792a34-cac6-4fda-95a8-c58e00a3954e", event: { kind: "push", branch: "main", commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", defaultBranch: "main" } } });
  });

  test("a deleted branch is ignored", () => {
    const body = fixture("gitlab-push-delete.json");
    expect(eventOf(gl("Push Hook"), body)).toEqual({ kind: "ignored", why: "branch old-feature was deleted" });
  });

  test("Merge Request Hook: open in the same project; merge from a fork closes", () => {
    const open = fixture("gitlab-mr-open.json");
    expect(eventOf(gl("Merge Request Hook"), open)).toEqual({
      kind: "pull_request", action: "open", number: 1, headSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", headRef: "ms-viewport", cloneUrl: "http://example.com/awesome_space/awesome_project.git", fork: false,
    });
    const merged = fixture("gitlab-mr-merge-fork.json");
    expect(eventOf(gl("Merge Request Hook"), merged)).toMatchObject({ kind: "pull_request", action: "close", fork: true, cloneUrl: "http://example.com/someone/awesome_project.git" });
  });

  test("a wrong or missing token: unauthorized", () => {
    const body = fixture("gitlab-push.json");
    expect(read(gl("Push Hook", "nope"), body)).toMatchObject({ ok: false, why: "unauthorized" });
    expect(read(gl("Push Hook", ""), body)).toMatchObject({ ok: false, why: "unauthorized" });
    expect(read(gl("Push Hook", `${SECRET}x`), body)).toMatchObject({ ok: false, why: "unauthorized" });
  });
});

describe("Gitea and Forgejo", () => {
  // Gitea also sends GitHub's headers (and Forgejo Gitea's): its own decide.
  const gitea = (event: string, body: Uint8Array, secret = SECRET) =>
    new Headers({ "x-gitea-event": event, "x-github-event": event, "x-gitea-delivery": "f6266f16-1bf3-46a5-9ea4-602e06ead473", "x-gitea-signature": hmacHex(secret, body) });

  test("push", () => {
    const body = fixture("gitea-push.json");
    expect(read(gitea("push", body), body)).toEqual({ ok: true, delivery: { provider: "gitea", deliveryId: "f6266f16-1bf3-46a5-9ea4-602e06ead473", event: { kind: "push", branch: "develop", commit: "bffeb74224043ba2feb48d137756c8a9331c449a", defaultBranch: "develop" } } });
  });

  test("pull_request synchronized → update", () => {
    const body = fixture("gitea-pr-synchronized.json");
    expect(eventOf(gitea("pull_request", body), body)).toEqual({ kind: "pull_request", action: "update", number: 3, headSha: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", headRef: "banner", cloneUrl: "http://localhost:3000/gitea/webhooks.git", fork: false });
  });

  test("Forgejo's own headers", () => {
    const body = fixture("gitea-push.json");
    const h = new Headers({ "x-forgejo-event": "push", "x-forgejo-delivery": "d1", "x-forgejo-signature": hmacHex(SECRET, body) });
    expect(read(h, body)).toMatchObject({ ok: true, delivery: { provider: "gitea", deliveryId: "d1", event: { kind: "push", branch: "develop" } } });
  });

  test("a wrong signature: unauthorized (a GitHub signature alongside does not help)", () => {
    const body = fixture("gitea-push.json");
    const h = gitea("push", body, "wrong");
    h.set("x-hub-signature-256", `sha256=${hmacHex(SECRET, body)}`);
    expect(read(h, body)).toMatchObject({ ok: false, why: "unauthorized" });
  });
});

describe("generic", () => {
  test("Bearer <secret> → redeploy; X-Kiln-Delivery deduplicates", () => {
    expect(read(new Headers({ authorization: `Bearer ${SECRET}`, "x-kiln-delivery": "ci-run-81" }), new Uint8Array())).toEqual({ ok: true, delivery: { provider: "generic", deliveryId: "ci-run-81", event: { kind: "redeploy" } } });
  });

  test("a wrong bearer, or another scheme: unauthorized", () => {
    expect(read(new Headers({ authorization: "Bearer nope" }), new Uint8Array())).toMatchObject({ ok: false, why: "unauthorized" });
    expect(read(new Headers({ authorization: `Basic ${SECRET}` }), new Uint8Array())).toMatchObject({ ok: false, why: "unauthorized" });
  });
});

/**
 * Deploy on push: a deployment's webhook (its secret, sealed in the secret store) and what a
 * delivery does. The receiver needs no API token, only the hook's secret:
 *   unknown deployment or no hook → 404 (the same answer, so ids cannot be probed);
 *   body over the cap → 413 (Content-Length first, then while reading);
 *   missing or bad signature → 401, and nothing else happens;
 *   a delivery id seen before → 200 duplicate, nothing built;
 *   ping → 200; a push to the tracked branch → that commit is built (202 queued); other branches,
 *   tags, deletions → 202 ignored with why; generic → redeploy; pull requests → onPullRequest.
 * Releases made this way have via "webhook".
 */
import { randomBytes } from "node:crypto";
import type { Deployment } from "../core/deployment.ts";
import { KilnError, notFound, tooLarge } from "../core/errors.ts";
import type { HookProvider, PullRequestEvent } from "../core/hooks.ts";
import type { ReleaseVia } from "../core/release.ts";
import type { Store } from "../core/ports/store.ts";
import { readDelivery } from "./delivery.ts";
import type { HeaderSource } from "./verify.ts";

/** 1 MiB: GitHub caps payloads at 25 MB but a push's is a few KiB; Kiln reads only ref, sha and names. */
export const MAX_HOOK_BODY = 1024 * 1024;
/** Delivery ids are remembered this long (redeliveries come within hours). */
const KEEP_DELIVERIES_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

export const webhookSecretKey = (deploymentId: string) => `deployment/${deploymentId}/webhook-secret`;

export interface HookAnswer {
  status: 200 | 202;
  body: { status: string; [k: string]: unknown };
}

export type PullRequestHandler = (parent: Deployment, ev: PullRequestEvent, provider: HookProvider) => Promise<{ status: string; message: string }>;

export interface HookServiceDeps {
  store: Pick<Store, "secrets" | "deliveries" | "deployments">;
  /** DeploymentService: by id or name; redeploy with a commit coalesces pushes. */
  deployments: {
    get(idOrName: string): Promise<Deployment>;
    redeploy(idOrName: string, via: ReleaseVia, opts?: { commit?: string }): Promise<Deployment>;
  };
  /** A line on the deployment's log. */
  log: (deploymentId: string, text: string) => void;
  /** Previews (src/previews); absent → pull requests are answered "ignored". */
  onPullRequest?: PullRequestHandler;
  maxBodyBytes?: number;
  now?: () => number;
}

interface StoredHook {
  secret: string;
  createdAt: number;
}

const NO_HOOK = () => notFound("no webhook here", "create one with POST /api/v1/deployments/<id>/webhook and use the url it answers");

export class HookService {
  #lastPrune = 0;
  readonly #max: number;
  readonly #now: () => number;

  constructor(private readonly d: HookServiceDeps) {
    this.#max = d.maxBodyBytes ?? MAX_HOOK_BODY;
    this.#now = d.now ?? Date.now;
  }

  /** Set later by the composition root, once previews exist. */
  set onPullRequest(handler: PullRequestHandler | undefined) {
    this.d.onPullRequest = handler;
  }

  /** A new secret (32 random bytes, base64url), replacing any earlier one. Shown only here. */
  async create(idOrName: string): Promise<{ deployment: Deployment; secret: string; createdAt: number; rotated: boolean }> {
    const deployment = await this.d.deployments.get(idOrName);
    const rotated = (await this.#hook(deployment.id)) !== null;
    const secret = randomBytes(32).toString("base64url");
    const createdAt = this.#now();
    await this.d.store.secrets.put(webhookSecretKey(deployment.id), JSON.stringify({ secret, createdAt } satisfies StoredHook));
    this.d.log(deployment.id, rotated ? "webhook secret rotated (the old one no longer works)" : "webhook created");
    return { deployment, secret, createdAt, rotated };
  }

  async describe(idOrName: string): Promise<{ deployment: Deployment; configured: boolean; createdAt: number | null }> {
    const deployment = await this.d.deployments.get(idOrName);
    const hook = await this.#hook(deployment.id);
    return { deployment, configured: hook !== null, createdAt: hook?.createdAt ?? null };
  }

  async remove(idOrName: string): Promise<void> {
    const deployment = await this.d.deployments.get(idOrName);
    if (!(await this.#hook(deployment.id))) throw notFound(`deployment ${deployment.name} has no webhook`, "create one with POST …/webhook");
    await this.d.store.secrets.deletePrefix(webhookSecretKey(deployment.id));
    this.d.log(deployment.id, "webhook removed");
  }

  /** One delivery. Throws KilnError for 404, 401, 413 (and 400 for a payload that is not JSON). */
  async receive(deploymentId: string, headers: HeaderSource, body: ReadableStream<Uint8Array> | null): Promise<HookAnswer> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(deploymentId)) throw NO_HOOK();
    const deployment = await this.d.store.deployments.get(deploymentId);
    const hook = deployment ? await this.#hook(deployment.id) : null;
    if (!deployment || !hook) throw NO_HOOK();

    const raw = await this.#readCapped(headers, body);
    const read = readDelivery(headers, raw, hook.secret);
    if (!read.ok) {
      throw new KilnError(read.why === "unauthorized" ? "unauthorized" : "bad_request", read.message, read.why === "unauthorized" ? "use the secret Kiln showed when the hook was made (POST …/webhook again makes a new one)" : undefined);
    }
    const { provider, deliveryId, event } = read.delivery;
    const now = this.#now();
    if (deliveryId !== null && !(await this.d.store.deliveries.record(deployment.id, deliveryId, now))) {
      return { status: 200, body: { status: "duplicate", message: `delivery ${deliveryId} was handled already; nothing new is built` } };
    }
    await this.#pruneNowAndThen(now);

    switch (event.kind) {
      case "ping":
        this.d.log(deployment.id, `webhook: ${provider} ping received`);
        return { status: 200, body: { status: "ok", message: "pong: the hook reaches Kiln and its secret matches" } };
      case "ignored":
        return ignored(event.why);
      case "pull_request": {
        if (!this.d.onPullRequest) return ignored("previews are not set up on this Kiln");
        const answer = await this.d.onPullRequest(deployment, event, provider);
        return { status: 202, body: answer };
      }
      case "redeploy": {
        if (deployment.status === "stopped") return ignored(`deployment ${deployment.name} is stopped; redeploy it once by hand to resume deploying on hooks`);
        this.d.log(deployment.id, `webhook (${provider}): redeploy`);
        await this.d.deployments.redeploy(deployment.id, "webhook");
        return { status: 202, body: { status: "queued", message: `redeploying ${deployment.name}` } };
      }
      case "push": {
        const source = deployment.source;
        if (source.kind !== "git") return ignored(`deployment ${deployment.name} was deployed from a tarball; only a deployment from a git URL builds pushed commits`);
        if (source.ref && /^[0-9a-f]{40,64}$/.test(source.ref)) return ignored(`deployment ${deployment.name} is pinned to commit ${source.ref.slice(0, 12)}; pushes do not move it`);
        const tracked = source.ref ?? event.defaultBranch;
        if (!tracked) return ignored("the payload names no default branch and the deployment tracks none; deploy it with a ref");
        if (event.branch !== tracked) return ignored(`push to ${event.branch}; ${deployment.name} tracks ${tracked}`);
        if (deployment.status === "stopped") return ignored(`deployment ${deployment.name} is stopped; redeploy it once by hand to resume deploying on push`);
        this.d.log(deployment.id, `webhook (${provider}): push of ${event.branch} at ${event.commit.slice(0, 12)}`);
        await this.d.deployments.redeploy(deployment.id, "webhook", { commit: event.commit });
        return { status: 202, body: { status: "queued", commit: event.commit, branch: event.branch, message: `building ${event.commit.slice(0, 12)} of ${event.branch}` } };
      }
    }
  }

  async #hook(deploymentId: string): Promise<StoredHook | null> {
    const raw = await this.d.store.secrets.get(webhookSecretKey(deploymentId));
    if (!raw) return null;
    try {
      const v = JSON.parse(raw) as StoredHook;
      return typeof v.secret === "string" && v.secret !== "" ? { secret: v.secret, createdAt: Number(v.createdAt) || 0 } : null;
    } catch {
      return null;
    }
  }

  /** The whole body, refused past the cap: by Content-Length before reading, else as it streams. */
  async #readCapped(headers: HeaderSource, body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
    const refuse = () => tooLarge(`the webhook payload is over the ${this.#max / 1024} KiB cap`, "send push events only (not every event), or use the generic call with no body");
    const declared = Number(headers.get("content-length") ?? "");
    if (Number.isFinite(declared) && declared > this.#max) throw refuse();
    if (!body) return new Uint8Array();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.#max) throw refuse();
        chunks.push(value);
      }
    } finally {
      if (size > this.#max) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
    return Buffer.concat(chunks);
  }

  async #pruneNowAndThen(now: number): Promise<void> {
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    await this.d.store.deliveries.prune(now - KEEP_DELIVERIES_MS);
  }
}

function ignored(why: string): HookAnswer {
  return { status: 202, body: { status: "ignored", why } };
}


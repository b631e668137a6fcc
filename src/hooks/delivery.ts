/**
 * One delivery, start to end of what is pure: which provider sent it (by its headers), whether its
 * proof of the secret holds, and what it means (HookDelivery). Nothing here has side effects.
 */
import type { HookDelivery, HookProvider } from "../core/hooks.ts";
import { genericEvent } from "./generic.ts";
import { giteaEvent } from "./gitea.ts";
import { githubEvent } from "./github.ts";
import { gitlabEvent } from "./gitlab.ts";
import { type HeaderSource, providerOf, verify } from "./verify.ts";

export type ReadResult = { ok: true; delivery: HookDelivery } | { ok: false; why: "unauthorized" | "bad_payload"; message: string };

/** Where each sender puts the delivery's id (a generic caller may send X-Kiln-Delivery to be deduplicated too). */
const DELIVERY_HEADER: Record<HookProvider, string> = {
  github: "x-github-delivery",
  gitea: "x-gitea-delivery",
  gitlab: "x-gitlab-event-uuid",
  generic: "x-kiln-delivery",
};

/** Verify, then parse. An unverified body is never parsed. */
export function readDelivery(h: HeaderSource, body: Uint8Array, secret: string): ReadResult {
  const provider = providerOf(h);
  if (!provider || !verify(provider, h, body, secret)) {
    return { ok: false, why: "unauthorized", message: provider ? `the ${provider} signature or token does not match this hook's secret` : "no signature: send X-Hub-Signature-256, X-Gitlab-Token, X-Gitea-Signature or Authorization: Bearer <secret>" };
  }
  const deliveryId = deliveryIdOf(provider, h);
  if (provider === "generic") return { ok: true, delivery: { provider, deliveryId, event: genericEvent() } };
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { ok: false, why: "bad_payload", message: "the payload is not JSON; set the hook's content type to application/json" };
  }
  const event =
    provider === "github" ? githubEvent(h.get("x-github-event") ?? "", payload)
    : provider === "gitlab" ? gitlabEvent(h.get("x-gitlab-event") ?? "", payload)
    : giteaEvent(h.get("x-forgejo-event") ?? h.get("x-gitea-event") ?? "", payload);
  return { ok: true, delivery: { provider, deliveryId, event } };
}

function deliveryIdOf(provider: HookProvider, h: HeaderSource): string | null {
  const name = DELIVERY_HEADER[provider];
  const raw = h.get(name) ?? (provider === "gitea" ? h.get("x-forgejo-delivery") : null);
  const id = raw?.trim() ?? "";
  return id !== "" && id.length <= 200 ? id : null;
}

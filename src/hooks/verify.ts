/**
 * Webhook authentication, one check per sender, every comparison in constant time:
 *   GitHub          X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>
 *   Gitea/Forgejo   X-Gitea-Signature / X-Forgejo-Signature: <hex HMAC-SHA256 of the raw body>
 *   GitLab          X-Gitlab-Token: <the secret itself>
 *   generic         Authorization: Bearer <the secret>
 * Which check applies is decided by the headers present (providerOf); the secret decides the rest.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { HookProvider } from "../core/hooks.ts";

/** Header lookup by (case-insensitive) name: a Fetch `Headers` fits. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** Equal strings, compared in constant time (for the lengths' sake, both sides are hashed first). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHmac("sha256", "kiln-compare").update(given).digest();
  const b = createHmac("sha256", "kiln-compare").update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** The hex HMAC-SHA256 of `body` under `secret` (what GitHub, Gitea and Forgejo send). */
export function hmacHex(secret: string, body: Uint8Array): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * Who sent the delivery, by its headers. Gitea/Forgejo first: they also send GitHub's headers.
 * null: no header Kiln knows (answered like a bad signature).
 */
export function providerOf(h: HeaderSource): HookProvider | null {
  if (h.get("x-gitea-event") !== null || h.get("x-forgejo-event") !== null || h.get("x-gitea-signature") !== null || h.get("x-forgejo-signature") !== null) return "gitea";
  if (h.get("x-gitlab-event") !== null || h.get("x-gitlab-token") !== null) return "gitlab";
  if (h.get("x-github-event") !== null || h.get("x-hub-signature-256") !== null) return "github";
  if (h.get("authorization") !== null) return "generic";
  return null;
}

/** Whether the delivery carries proof of `secret` the way its provider signs. */
export function verify(provider: HookProvider, h: HeaderSource, body: Uint8Array, secret: string): boolean {
  switch (provider) {
    case "github": {
      const sig = h.get("x-hub-signature-256")?.trim() ?? "";
      return sig.startsWith("sha256=") && safeEqual(sig.slice(7).toLowerCase(), hmacHex(secret, body));
    }
    case "gitea": {
      const sig = (h.get("x-forgejo-signature") ?? h.get("x-gitea-signature"))?.trim() ?? "";
      return sig !== "" && safeEqual(sig.toLowerCase(), hmacHex(secret, body));
    }
    case "gitlab": {
      const token = h.get("x-gitlab-token") ?? "";
      return token !== "" && safeEqual(token, secret);
    }
    case "generic": {
      const auth = h.get("authorization") ?? "";
      return auth.startsWith("Bearer ") && safeEqual(auth.slice(7).trim(), secret);
    }
  }
}

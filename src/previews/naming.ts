/**
 * A preview's deployment name: `<app>-pr-<n>` for a pull request, `<app>-<slug of ref>` for one
 * made through the API. Always a valid deployment name (a DNS label of at most 40): the app's part
 * is cut to make room, and a name already taken by another deployment gets `-2`, `-3`… Pure.
 *
 *   previewName("shop", "pr-7", () => false)        // "shop-pr-7"
 *   previewName("a".repeat(40), "pr-7", () => false) // "aaaa…a-pr-7" (40 characters)
 */
import { isDeploymentName } from "../core/names.ts";

export const NAME_MAX = 40;
/** The longest slug taken from a ref, so that the app's part of the name keeps some room. */
const SLUG_MAX = 24;

/** The suffix of a pull request's preview. */
export const prSuffix = (number: number): string => `pr-${number}`;

/** `feature/Login_v2` → `feature-login-v2`; "" when nothing usable is left. */
export function refSlug(ref: string): string {
  return ref
    .toLowerCase()
    .replace(/^refs\/(heads|tags)\//, "")
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, SLUG_MAX)
    .replace(/^-+|-+$/g, "");
}

/** The suffix of a preview made from `ref`: its slug, else `p<n>`. */
export function refSuffix(ref: string, n: number): string {
  return refSlug(ref) || `p${n}`;
}

/** `<parent>-<suffix>` cut to 40, trying `-2`… `-99` while `taken` says the name is someone else's. */
export function previewName(parent: string, suffix: string, taken: (name: string) => boolean): string {
  for (let i = 1; i < 100; i++) {
    const tail = i === 1 ? suffix : `${suffix}-${i}`;
    const room = NAME_MAX - tail.length - 1;
    const head = parent.slice(0, Math.max(room, 0)).replace(/-+$/, "");
    const name = head ? `${head}-${tail}` : tail.slice(0, NAME_MAX).replace(/-+$/, "");
    if (isDeploymentName(name) && !taken(name)) return name;
  }
  throw new Error(`no free preview name for ${parent}-${suffix}`);
}

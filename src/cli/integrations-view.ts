/**
 * The pure parts of kiln domains | tls | webhook | previews: picking the subcommand, and domains,
 * webhooks and previews as rows and lines. A webhook's secret is only ever in webhookCreatedLines.
 *
 *   subcommand(["add", "hello", "shop.example.com"], ["ls", "add", "rm"], "domains")
 *     // {sub: "add", rest: ["hello", "shop.example.com"]}
 */
import type { Deployment, Domain, Webhook, WebhookCreated } from "../client/api-client.ts";
import { UsageError } from "./args.ts";
import { ago } from "./output.ts";

/** The first positional as one of `allowed`, and the rest; a usage error naming the choices otherwise. */
export function subcommand<S extends string>(pos: string[], allowed: readonly S[], group: string): { sub: S; rest: string[] } {
  const [sub, ...rest] = pos;
  const choices = `${allowed.slice(0, -1).join(", ")}${allowed.length > 1 ? " or " : ""}${allowed.at(-1)}`;
  if (sub === undefined) throw new UsageError(`missing ${choices}`);
  if (!(allowed as readonly string[]).includes(sub)) throw new UsageError(`unknown ${group} command ${JSON.stringify(sub.slice(0, 40))}: use ${choices}`);
  return { sub: sub as S, rest };
}

/** "2026-03-01 (in 89d)", "2026-03-01 (expired)", or "-" without a certificate. */
export function certExpiry(cert: Domain["certificate"], now = Date.now()): string {
  if (!cert) return "-";
  const at = Date.parse(cert.notAfter);
  if (Number.isNaN(at)) return cert.notAfter;
  const day = cert.notAfter.slice(0, 10);
  const days = Math.floor((at - now) / 86_400_000);
  if (at <= now) return `${day} (expired)`;
  return `${day} (in ${days < 1 ? "<1" : days}d)`;
}

/** The table of `kiln domains ls`, header first. */
export function domainRows(domains: Domain[], now = Date.now()): string[][] {
  return [["HOST", "STATUS", "CERT EXPIRES", "DETAIL"], ...domains.map((d) => [d.host, d.status, certExpiry(d.certificate, now), d.detail])];
}

/** What `kiln domains add` prints: where the app now answers and what happens next. */
export function domainAddedLines(app: string, d: Domain): string[] {
  return [`${d.host} attached to ${app}: ${d.url}`, `  ${d.status}: ${d.detail}`];
}

/** What `kiln webhook create` prints: the URL to give the Git host, the secret (this once), and where to put them. */
export function webhookCreatedLines(app: string, w: WebhookCreated): string[] {
  return [
    `${w.rotated ? "rotated the webhook secret of" : "created a webhook for"} ${app}${w.rotated ? " (the old secret no longer works)" : ""}`,
    "",
    `  URL:     ${w.publicUrl}`,
    `  secret:  ${w.secret}`,
    "",
    "The secret is shown only now: copy it into your Git host (kiln webhook create again makes a new one).",
    "",
    `  GitHub:          ${w.hints.github}`,
    `  GitLab:          ${w.hints.gitlab}`,
    `  Gitea/Forgejo:   ${w.hints.gitea}`,
    `  any CI:          ${w.hints.generic}`,
  ];
}

/** What `kiln webhook show` prints: never a secret (the API does not return it). */
export function webhookLines(app: string, w: Webhook): string[] {
  if (!w.configured) return [`${app} has no webhook; make one with: kiln webhook create ${app}`];
  return [`${app} has a webhook (created ${ago(w.createdAt)})`, `  URL:         ${w.publicUrl}`, `  API URL:     ${w.url}`, "  secret:      (shown only when created; kiln webhook create rotates it)"];
}

const shortCommit = (sha: string | null) => (sha ? sha.slice(0, 7) : "-");

/** The table of `kiln previews ls`, header first; the commit is the pull request's head, else the build's. */
export function previewRows(previews: Deployment[], now = Date.now()): string[][] {
  return [
    ["NAME", "STATUS", "PR", "REF", "COMMIT", "URL", "AGE"],
    ...previews.map((d) => [
      d.name,
      d.status,
      d.preview?.number != null ? `#${d.preview.number}${d.preview.fork ? " (fork)" : ""}` : "-",
      d.preview?.ref ?? "-",
      shortCommit(d.preview?.commit ?? d.currentBuild?.commit ?? null),
      d.url,
      ago(d.createdAt, now),
    ]),
  ];
}

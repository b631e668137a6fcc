/**
 * Deploy on push: whether the app has a webhook and its URL; create it or rotate its secret (the
 * secret is shown once, here, until dismissed — the API never returns it again); remove it.
 */
import { useState } from "react";
import type { WebhookCreated } from "../api.ts";
import { useClient } from "../client-context.ts";
import { timeAgo } from "../lib/format.ts";
import { usePoll } from "../lib/use-poll.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

const HOSTS: [keyof WebhookCreated["hints"], string][] = [
  ["github", "GitHub"],
  ["gitlab", "GitLab"],
  ["gitea", "Gitea / Forgejo"],
  ["generic", "Any CI"],
];

export function WebhookPanel({ deploymentId }: { deploymentId: string }) {
  const client = useClient();
  const hook = usePoll(() => client.webhook(deploymentId), 10_000, `webhook:${deploymentId}`);
  const [made, setMade] = useState<WebhookCreated | null>(null);
  const [confirming, setConfirming] = useState<"rotate" | "remove" | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const w = hook.data;

  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    setConfirming(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      hook.refresh();
    }
  };
  const create = () =>
    act(async () => {
      setCopied(false);
      setMade(await client.createWebhook(deploymentId));
    });
  const remove = () =>
    act(async () => {
      setMade(null);
      await client.deleteWebhook(deploymentId);
    });
  const copy = async (secret: string) => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard (plain HTTP): the secret is selectable
    }
  };

  return (
    <section className="card" aria-labelledby="webhook-title" data-testid="webhook-panel">
      <h2 id="webhook-title" className="section-title">
        Deploy on push
      </h2>
      <ErrorNotice error={hook.error} title="Could not load the webhook" />
      {w && !w.configured && !made && <p className="muted">No webhook: create one and give its URL and secret to your Git host to deploy on every push.</p>}
      {w?.configured && (
        <p data-testid="webhook-configured">
          Webhook on{w.createdAt ? ` since ${timeAgo(w.createdAt)}` : ""}: <code data-testid="webhook-url">{w.publicUrl}</code>
        </p>
      )}
      {made && (
        <div className="notice notice-ok" role="status" data-testid="webhook-secret-box">
          <p>
            {made.rotated ? "New secret (the old one no longer works)" : "Webhook created"}. URL: <code>{made.publicUrl}</code>
          </p>
          <p>
            Secret: <code className="secret" data-testid="webhook-secret">{made.secret}</code>{" "}
            <button type="button" className="button small" onClick={() => void copy(made.secret)}>
              {copied ? "Copied" : "Copy"}
            </button>
          </p>
          <p className="notice-hint">Copy it now: it is shown only this once. Rotate to get a new one.</p>
          <details>
            <summary>Where to paste them</summary>
            <dl className="hook-hints">
              {HOSTS.map(([key, label]) => (
                <div key={key}>
                  <dt>{label}</dt>
                  <dd>{made.hints[key]}</dd>
                </div>
              ))}
            </dl>
          </details>
          <button type="button" className="button small ghost" onClick={() => setMade(null)}>
            Done, hide the secret
          </button>
        </div>
      )}
      {confirming && (
        <div className="confirm" role="alertdialog" aria-labelledby="webhook-confirm-text">
          <p id="webhook-confirm-text">{confirming === "rotate" ? "Rotate the secret? The old one stops working at once: update your Git host." : "Remove the webhook? Pushes no longer deploy."}</p>
          <div className="action-row">
            <button type="button" className={`button ${confirming === "rotate" ? "primary" : "danger"}`} autoFocus onClick={() => void (confirming === "rotate" ? create() : remove())}>
              {confirming === "rotate" ? "Rotate secret" : "Remove webhook"}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {w && !confirming && (
        <div className="action-row">
          {w.configured ? (
            <>
              <button type="button" className="button" disabled={busy} onClick={() => setConfirming("rotate")}>
                Rotate secret
              </button>
              <button type="button" className="button danger" disabled={busy} onClick={() => setConfirming("remove")}>
                Remove
              </button>
            </>
          ) : (
            <button type="button" className="button primary" disabled={busy} onClick={() => void create()}>
              {busy ? "Creating…" : "Create webhook"}
            </button>
          )}
        </div>
      )}
      <ErrorNotice error={error} title="Could not change the webhook" />
    </section>
  );
}

/** The app's own domains: each with its status badge, what happens next, certificate expiry; add one, remove one. */
import { useState, type FormEvent } from "react";
import type { Domain } from "../api.ts";
import { useClient } from "../client-context.ts";
import { usePoll } from "../lib/use-poll.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

const TONE: Record<Domain["status"], string> = { active: "ok", pending: "pending", failed: "bad", http: "muted" };

/** "until 2026-03-01" for a certificate, nothing without one. */
export function certificateText(cert: Domain["certificate"]): string | null {
  return cert ? `${cert.issuer} · until ${cert.notAfter.slice(0, 10)}` : null;
}

export function DomainsPanel({ deploymentId }: { deploymentId: string }) {
  const client = useClient();
  const list = usePoll(() => client.domains(deploymentId), 5000, `domains:${deploymentId}`);
  const [host, setHost] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  const act = async (label: string, action: () => Promise<unknown>) => {
    setBusy(label);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(null);
      list.refresh();
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (await act("add", () => client.addDomain(deploymentId, host.trim()))) setHost("");
  };

  return (
    <section className="card" aria-labelledby="domains-title" data-testid="domains-panel">
      <h2 id="domains-title" className="section-title">
        Domains
      </h2>
      <ErrorNotice error={list.error} title="Could not load the domains" />
      {list.data?.length === 0 && <p className="muted">No domains of its own yet: add one below, and point its DNS at this machine.</p>}
      {list.data && list.data.length > 0 && (
        <ul className="domain-list">
          {list.data.map((d) => (
            <li key={d.host} data-testid="domain-row" data-host={d.host}>
              <div className="domain-head">
                <a href={d.url} target="_blank" rel="noreferrer">
                  {d.host} ↗
                </a>
                <span className={`badge badge-${TONE[d.status]}`} data-testid="domain-status" data-status={d.status}>
                  <span className="dot" aria-hidden="true" />
                  {d.status}
                </span>
                {certificateText(d.certificate) && <span className="muted small">{certificateText(d.certificate)}</span>}
                <button type="button" className="button small danger" disabled={!!busy} onClick={() => void act(`rm:${d.host}`, () => client.removeDomain(deploymentId, d.host))} aria-label={`Remove ${d.host}`}>
                  {busy === `rm:${d.host}` ? "Removing…" : "Remove"}
                </button>
              </div>
              <p className="muted small" data-testid="domain-detail">
                {d.detail}
              </p>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} data-testid="domain-form" aria-label="Add a domain">
        <div className="field-row">
          <label className="field">
            <span>Domain</span>
            <input required value={host} onChange={(e) => setHost(e.target.value)} placeholder="shop.example.com" autoComplete="off" spellCheck={false} />
          </label>
          <button type="submit" className="button primary align-end" disabled={!!busy}>
            {busy === "add" ? "Adding…" : "Add"}
          </button>
        </div>
      </form>
      <ErrorNotice error={error} title="Could not change the domains" />
    </section>
  );
}

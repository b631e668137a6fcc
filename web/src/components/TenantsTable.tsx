/** Tenants with their claim status, URL and last sync; release the claimed ones. */
import { useState } from "react";
import type { Tenant } from "../api.ts";
import { useClient } from "../client-context.ts";
import { timeAgo } from "../lib/format.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

export function TenantsTable({ tenants, onReleased }: { tenants: Tenant[]; onReleased: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  const release = async (t: Tenant) => {
    const key = `${t.tenantId}/${t.workload}`;
    setBusy(key);
    setError(undefined);
    try {
      await client.release(t.tenantId, { workload: t.workload });
      onReleased();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="tenants-title">
      <h2 id="tenants-title" className="section-title">
        Tenants
      </h2>
      <ErrorNotice error={error} title="Could not release" />
      {tenants.length === 0 ? (
        <p className="muted">No tenants yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Workload</th>
                <th scope="col">Status</th>
                <th scope="col">URL</th>
                <th scope="col">Last sync</th>
                <th scope="col">Claimed</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => {
                const key = `${t.tenantId}/${t.workload}`;
                const releasable = t.status === "claimed" || t.status === "release_failed";
                return (
                  <tr key={key} data-testid="tenant-row" data-tenant={t.tenantId} data-status={t.status}>
                    <td>
                      <strong>{t.tenantId}</strong>
                    </td>
                    <td>{t.workload}</td>
                    <td>
                      <StatusBadge status={t.status} />
                    </td>
                    <td>
                      {t.url && t.status === "claimed" ? (
                        <a href={t.url} target="_blank" rel="noreferrer">
                          {t.url.replace(/^https?:\/\//, "")}
                        </a>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td>
                      {t.lastSync ? (
                        <span className={t.lastSync.ok ? "" : "text-bad"} title={t.lastSync.error ?? undefined}>
                          {t.lastSync.direction} {t.lastSync.ok ? "ok" : "failed"} · {timeAgo(t.lastSync.at)}
                        </span>
                      ) : (
                        <span className="muted">never</span>
                      )}
                    </td>
                    <td>{timeAgo(t.claimedAt)}</td>
                    <td>
                      {releasable && (
                        <button type="button" className="button small" disabled={busy === key} onClick={() => void release(t)} aria-label={`Release ${t.tenantId} (${t.workload})`}>
                          {busy === key ? "Releasing…" : "Release"}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

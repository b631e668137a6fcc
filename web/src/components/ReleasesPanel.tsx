/** The kept releases, newest first; any but the serving one can be rolled back to (asks first, in place). */
import { useState } from "react";
import type { Release } from "../api.ts";
import { useClient } from "../client-context.ts";
import { timeAgo } from "../lib/format.ts";
import { useChange } from "../lib/use-change.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function ReleasesPanel({ deploymentId, releases, onChanged }: { deploymentId: string; releases: Release[]; onChanged: () => void }) {
  const client = useClient();
  const change = useChange(onChanged);
  const [confirming, setConfirming] = useState<number | null>(null);

  const rollback = async (number: number) => {
    setConfirming(null);
    await change.run(`rollback:${number}`, () => client.rollback(deploymentId, { release: number, wait: true }));
  };

  return (
    <section className="card" aria-labelledby="releases-title" data-testid="releases-panel">
      <h2 id="releases-title" className="section-title">
        Releases
      </h2>
      {releases.length === 0 ? (
        <p className="muted">No releases yet: the first comes with the first successful deploy.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Description</th>
                <th scope="col">Via</th>
                <th scope="col">When</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {releases.map((r) => (
                <tr key={r.id} data-testid="release-row" data-number={r.number} data-current={r.current}>
                  <td>
                    {r.number}
                    {r.current && <span className="badge badge-ok release-current">serving</span>}
                  </td>
                  <td>{r.description}</td>
                  <td className="muted">{r.via}</td>
                  <td title={r.createdAt}>{timeAgo(r.createdAt)}</td>
                  <td className="cell-actions">
                    {!r.current && (
                      <button type="button" className="button small" disabled={!!change.busy} onClick={() => setConfirming(r.number)}>
                        {change.busy === `rollback:${r.number}` ? "Rolling back…" : "Roll back"}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {confirming !== null && (
        <div className="confirm" role="alertdialog" aria-labelledby="rollback-text">
          <p id="rollback-text">Roll back to release #{confirming}? Its image, env and settings serve again; the current release keeps serving until it is healthy.</p>
          <div className="action-row">
            <button type="button" className="button primary" autoFocus onClick={() => void rollback(confirming)}>
              Roll back to #{confirming}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {change.result && (
        <div className="notice notice-ok" role="status" data-testid="rollback-result">
          {change.result}
        </div>
      )}
      <ErrorNotice error={change.error} title="Rollback failed" />
    </section>
  );
}

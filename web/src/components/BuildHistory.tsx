/** Every build of a deployment, newest first. */
import type { Build } from "../api.ts";
import { formatDuration, shortImage, shortSha, timeAgo } from "../lib/format.ts";
import { StatusBadge } from "./StatusBadge.tsx";

export function BuildHistory({ builds }: { builds: Build[] }) {
  return (
    <section className="card" aria-labelledby="builds-title">
      <h2 id="builds-title" className="section-title">
        Build history
      </h2>
      {builds.length === 0 ? (
        <p className="muted">No builds yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Status</th>
                <th scope="col">Builder</th>
                <th scope="col">Commit</th>
                <th scope="col">Image</th>
                <th scope="col">Steps</th>
                <th scope="col">Duration</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {builds.map((b) => (
                <tr key={b.id}>
                  <td>{b.number}</td>
                  <td>
                    <StatusBadge status={b.status} />
                    {b.error && <div className="cell-error">{b.error}</div>}
                  </td>
                  <td>{b.builder ?? "—"}</td>
                  <td>
                    <code>{shortSha(b.commit)}</code>
                  </td>
                  <td className="cell-mono">{shortImage(b.image)}</td>
                  <td className="muted">{b.steps.map((s) => `${s.name} ${formatDuration(s.durationMs)}`).join(" · ") || "—"}</td>
                  <td>{formatDuration(b.durationMs)}</td>
                  <td title={b.createdAt}>{timeAgo(b.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** An app's previews (one per pull request, or per ref asked through the API): name, PR, ref, status, URL. */
import type { Deployment } from "../api.ts";
import { useClient } from "../client-context.ts";
import { shortSha, timeAgo } from "../lib/format.ts";
import { usePoll } from "../lib/use-poll.ts";
import { Link } from "../router.tsx";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

/** The previews of `parentId` among all deployments, newest first. */
export function previewsOf(all: Deployment[], parentId: string): Deployment[] {
  return all.filter((d) => d.preview?.parentId === parentId).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export function PreviewsPanel({ parent }: { parent: Deployment }) {
  const client = useClient();
  const list = usePoll(() => client.listDeployments(), 3000, `previews:${parent.id}`);
  const previews = list.data ? previewsOf(list.data, parent.id) : undefined;
  const p = parent.settings.previews;

  return (
    <section className="card" aria-labelledby="previews-title" data-testid="previews-panel">
      <h2 id="previews-title" className="section-title">
        Previews
      </h2>
      <ErrorNotice error={list.error} title="Could not load previews" />
      {!p.enabled && <p className="muted">Previews are off: turn them on in settings (previews.enabled) to get one per pull request.</p>}
      {previews?.length === 0 && p.enabled && (
        <p className="muted">
          No previews yet: open a pull request (with the webhook set up), or <code>POST /api/v1/deployments/{parent.name}/previews {"{ref}"}</code>.
        </p>
      )}
      {previews && previews.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Preview</th>
                <th scope="col">Pull request</th>
                <th scope="col">Ref</th>
                <th scope="col">Status</th>
                <th scope="col">URL</th>
              </tr>
            </thead>
            <tbody>
              {previews.map((d) => (
                <tr key={d.id} data-testid="preview-row" data-name={d.name}>
                  <td>
                    <Link to={`/deployments/${encodeURIComponent(d.name)}`}>{d.name}</Link>
                    <div className="muted">{timeAgo(d.createdAt)}</div>
                  </td>
                  <td data-testid="preview-number">
                    {d.preview!.number !== null ? `#${d.preview!.number}` : "—"}
                    {d.preview!.fork && <span className="badge badge-muted">fork</span>}
                  </td>
                  <td data-testid="preview-ref">
                    <code>{d.preview!.ref}</code>
                    {d.preview!.commit && <span className="muted"> · {shortSha(d.preview!.commit)}</span>}
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>
                    {d.status === "running" ? (
                      <a href={d.url} target="_blank" rel="noreferrer" data-testid="preview-url">
                        {d.url.replace(/^https?:\/\//, "").replace(/\/$/, "")} ↗
                      </a>
                    ) : (
                      <span className="muted">when running</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

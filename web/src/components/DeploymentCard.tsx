/** One row of the deployments list: name, live URL, status, current build. */
import type { Deployment } from "../api.ts";
import { formatDuration, shortSha, timeAgo } from "../lib/format.ts";
import { Link } from "../router.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

export function sourceLabel(d: Deployment): string {
  return d.source.kind === "git" ? `${d.source.url.replace(/^https?:\/\//, "")}${d.source.ref ? `@${d.source.ref}` : ""}` : "tarball upload";
}

/** `parentName`: for a preview, its app's name (shown under the preview's name). */
export function DeploymentCard({ deployment: d, parentName }: { deployment: Deployment; parentName?: string }) {
  const b = d.currentBuild;
  return (
    <li className="deployment-card card" data-testid="deployment-card" data-name={d.name}>
      <div className="dc-main">
        <Link to={`/deployments/${encodeURIComponent(d.name)}`} className="dc-name">
          {d.name}
        </Link>
        {d.preview && (
          <span className="dc-preview muted" data-testid="preview-parent">
            preview of {parentName ?? "a removed app"}
            {d.preview.number !== null ? ` · PR #${d.preview.number}` : ` · ${d.preview.ref}`}
          </span>
        )}
        {d.status === "running" ? (
          <a className="dc-url" href={d.url} target="_blank" rel="noreferrer" data-testid="deployment-url">
            {d.url.replace(/^https?:\/\//, "").replace(/\/$/, "")} ↗
          </a>
        ) : (
          <span className="dc-url muted">{d.status === "stopped" ? "stopped — no URL" : "URL when running"}</span>
        )}
      </div>
      <div className="dc-status">
        <StatusBadge status={d.status} />
      </div>
      <div className="dc-build muted">
        {b ? (
          <>
            Build #{b.number} · {b.builder ?? "…"} · {formatDuration(b.durationMs)}
            {b.commit && <> · {shortSha(b.commit)}</>}
          </>
        ) : (
          "no build yet"
        )}
        <div className="dc-source">
          {sourceLabel(d)} · {timeAgo(d.updatedAt)}
        </div>
      </div>
    </li>
  );
}

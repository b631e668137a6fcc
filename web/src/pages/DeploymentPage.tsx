/** One deployment: status and URLs, actions, the pipeline of its current build, releases, env, settings, domains, webhook, previews, logs, build history. */
import { useCallback } from "react";
import { useClient } from "../client-context.ts";
import { BuildHistory } from "../components/BuildHistory.tsx";
import { DeploymentActions } from "../components/DeploymentActions.tsx";
import { DomainsPanel } from "../components/DomainsPanel.tsx";
import { EnvPanel } from "../components/EnvPanel.tsx";
import { ReleasesPanel } from "../components/ReleasesPanel.tsx";
import { SettingsPanel } from "../components/SettingsPanel.tsx";
import { StatsPanel } from "../components/StatsPanel.tsx";
import { sourceLabel } from "../components/DeploymentCard.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { LogViewer } from "../components/LogViewer.tsx";
import { Pipeline } from "../components/Pipeline.tsx";
import { PreviewsPanel } from "../components/PreviewsPanel.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { WebhookPanel } from "../components/WebhookPanel.tsx";
import { usePoll } from "../lib/use-poll.ts";
import { Link } from "../router.tsx";

export function DeploymentPage({ id }: { id: string }) {
  const client = useClient();
  const dep = usePoll(() => client.getDeployment(id), 2000, `deployment:${id}`);
  const builds = usePoll(() => client.builds(id), 2000, `builds:${id}`);
  const releases = usePoll(() => client.releases(id), 3000, `releases:${id}`);
  const env = usePoll(() => client.env(id), 5000, `env:${id}`);
  const d = dep.data;
  const refreshAll = useCallback(() => {
    dep.refresh();
    releases.refresh();
    env.refresh();
  }, [dep.refresh, releases.refresh, env.refresh]);

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/">Deployments</Link> <span aria-hidden="true">/</span> <span>{d?.name ?? id}</span>
      </nav>
      <ErrorNotice error={dep.error} title="Could not load the deployment" />
      {d && (
        <>
          <div className="page-head">
            <div>
              <h1>
                {d.name} <StatusBadge status={d.status} />
              </h1>
              <p className="muted">
                {sourceLabel(d)} · id <code>{d.id}</code>
              </p>
              {d.preview && (
                <p className="muted" data-testid="preview-of">
                  Preview of <Link to={`/deployments/${encodeURIComponent(d.preview.parentId)}`}>its app</Link>
                  {d.preview.number !== null ? ` · pull request #${d.preview.number}` : ""} · {d.preview.ref}
                </p>
              )}
              {d.status === "running" && (
                <p className="urls">
                  <a href={d.url} target="_blank" rel="noreferrer" data-testid="deployment-url">
                    {d.url} ↗
                  </a>
                  <a href={d.pathUrl} target="_blank" rel="noreferrer" className="muted">
                    {d.pathUrl}
                  </a>
                </p>
              )}
            </div>
            <DeploymentActions deployment={d} onChanged={dep.refresh} />
          </div>
          {d.failureReason && (
            <div className="notice notice-error" role="alert">
              <strong>Failed:</strong> {d.failureReason}
            </div>
          )}
          <Pipeline build={d.currentBuild} />
          <StatsPanel deploymentId={d.id} />
          {releases.data && <ReleasesPanel deploymentId={d.id} releases={releases.data} onChanged={refreshAll} />}
          <div className="day-two-grid">
            {env.data && <EnvPanel deploymentId={d.id} vars={env.data} onChanged={refreshAll} />}
            <SettingsPanel deploymentId={d.id} settings={d.settings} onChanged={refreshAll} />
          </div>
          <div className="day-two-grid">
            <DomainsPanel deploymentId={d.id} />
            <WebhookPanel deploymentId={d.id} />
          </div>
          {!d.preview && <PreviewsPanel parent={d} />}
        </>
      )}
      <LogViewer client={client} deploymentId={id} />
      {builds.data && <BuildHistory builds={builds.data} />}
    </>
  );
}

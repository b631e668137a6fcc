/** One deployment: status and URLs, actions, the pipeline of its current build, logs, build history. */
import { useClient } from "../client-context.ts";
import { BuildHistory } from "../components/BuildHistory.tsx";
import { DeploymentActions } from "../components/DeploymentActions.tsx";
import { sourceLabel } from "../components/DeploymentCard.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { LogViewer } from "../components/LogViewer.tsx";
import { Pipeline } from "../components/Pipeline.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { usePoll } from "../lib/use-poll.ts";
import { Link } from "../router.tsx";

export function DeploymentPage({ id }: { id: string }) {
  const client = useClient();
  const dep = usePoll(() => client.getDeployment(id), 2000, `deployment:${id}`);
  const builds = usePoll(() => client.builds(id), 2000, `builds:${id}`);
  const d = dep.data;

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
        </>
      )}
      <LogViewer client={client} deploymentId={id} />
      {builds.data && <BuildHistory builds={builds.data} />}
    </>
  );
}

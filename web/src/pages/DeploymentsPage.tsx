/** Every deployment, refreshed every 2 s, and the two ways to make a new one. */
import { useState } from "react";
import type { Deployment } from "../api.ts";
import { useClient } from "../client-context.ts";
import { DeploymentCard } from "../components/DeploymentCard.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { GitDeployForm } from "../components/GitDeployForm.tsx";
import { TarballDropZone } from "../components/TarballDropZone.tsx";
import { Link } from "../router.tsx";
import { usePoll } from "../lib/use-poll.ts";

export function DeploymentsPage() {
  const client = useClient();
  const list = usePoll(() => client.listDeployments(), 2000, "deployments");
  const [created, setCreated] = useState<Deployment | null>(null);
  const onCreated = (d: Deployment) => {
    setCreated(d);
    list.refresh();
  };

  return (
    <>
      <div className="page-head">
        <h1>Deployments</h1>
      </div>
      <section className="new-deployment card" aria-labelledby="new-title">
        <h2 id="new-title" className="section-title">
          New deployment
        </h2>
        <div className="new-grid">
          <GitDeployForm onCreated={onCreated} />
          <TarballDropZone onCreated={onCreated} />
        </div>
        {created && (
          <div className="notice notice-ok" role="status">
            Deploying <strong>{created.name}</strong> — <Link to={`/deployments/${encodeURIComponent(created.name)}`}>follow the build</Link>
          </div>
        )}
      </section>
      <ErrorNotice error={list.error} title="Could not load deployments" />
      {list.data === undefined && !list.error && <p className="muted">Loading…</p>}
      {list.data?.length === 0 && <p className="empty">No deployments yet. Deploy a Git repository or drop a tarball above.</p>}
      {list.data && list.data.length > 0 && (
        <ul className="deployment-list" aria-label="Deployments">
          {list.data.map((d) => (
            <DeploymentCard key={d.id} deployment={d} parentName={d.preview ? list.data!.find((p) => p.id === d.preview!.parentId)?.name : undefined} />
          ))}
        </ul>
      )}
    </>
  );
}

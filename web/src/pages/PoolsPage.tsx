/** Tenant pools: each workload's pool and members, the tenants, claim and release. */
import { useClient } from "../client-context.ts";
import { ClaimForm } from "../components/ClaimForm.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { PoolCard } from "../components/PoolCard.tsx";
import { TenantsTable } from "../components/TenantsTable.tsx";
import { usePoll } from "../lib/use-poll.ts";

export function PoolsPage() {
  const client = useClient();
  const snap = usePoll(async () => {
    const [workloads, pools, tenants] = await Promise.all([client.workloads(), client.pools(), client.tenants()]);
    return { workloads, pools, tenants };
  }, 2000, "pools");
  const data = snap.data;

  return (
    <>
      <div className="page-head">
        <h1>Pools</h1>
      </div>
      <ErrorNotice error={snap.error} title="Could not load pools" />
      {data === undefined && !snap.error && <p className="muted">Loading…</p>}
      {data && (
        <>
          {data.workloads.errors.map((e) => (
            <div key={e.file} className="notice notice-error" role="alert">
              <strong>{e.file}</strong> did not load: {e.message}
            </div>
          ))}
          <ClaimForm workloads={data.workloads.workloads.map((w) => w.id)} onClaimed={snap.refresh} />
          <section aria-labelledby="workloads-title">
            <h2 id="workloads-title" className="section-title">
              Workloads
            </h2>
            {data.workloads.workloads.length === 0 ? (
              <p className="empty">No workloads. Add YAML files to the workloads folder (KILN_WORKLOADS_DIR); they are picked up live.</p>
            ) : (
              <div className="pool-grid">
                {data.workloads.workloads.map((w) => (
                  <PoolCard key={w.id} workload={w} pool={data.pools.find((p) => p.workload === w.id)} />
                ))}
              </div>
            )}
          </section>
          <TenantsTable tenants={data.tenants} onReleased={snap.refresh} />
        </>
      )}
    </>
  );
}

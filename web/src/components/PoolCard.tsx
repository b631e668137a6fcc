/** One workload and its warm pool: counts by state and the members. */
import type { Pool, Workloads } from "../api.ts";
import { timeAgo } from "../lib/format.ts";
import { StatusBadge } from "./StatusBadge.tsx";

type Workload = Workloads["workloads"][number];

export function PoolCard({ workload: w, pool }: { workload: Workload; pool: Pool | undefined }) {
  const c = pool?.counts;
  return (
    <article className="card pool-card" data-testid="pool-card" data-workload={w.id}>
      <header className="pool-head">
        <h3>{w.name}</h3>
        <code className="muted">{w.image}</code>
      </header>
      <dl className="counts">
        <div>
          <dt>warming</dt>
          <dd data-count="warming">{c?.warming ?? 0}</dd>
        </div>
        <div>
          <dt>ready</dt>
          <dd data-count="ready">{c?.ready ?? 0}</dd>
        </div>
        <div>
          <dt>claimed</dt>
          <dd data-count="claimed">{c?.claimed ?? 0}</dd>
        </div>
        <div>
          <dt>size</dt>
          <dd>
            {w.pool.minSize}–{w.pool.maxSize}
          </dd>
        </div>
      </dl>
      {pool && pool.members.length > 0 && (
        <ul className="members" aria-label={`Members of ${w.id}`}>
          {pool.members.map((m) => (
            <li key={m.id}>
              <StatusBadge status={m.status} />
              <code>{(m.containerId ?? m.id).slice(0, 12)}</code>
              {m.tenantId && <span>→ {m.tenantId}</span>}
              {!m.current && <span className="muted">(old spec)</span>}
              {m.readyAt && <span className="muted">ready {timeAgo(m.readyAt)}</span>}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        {w.file}
        {w.sync ? ` · sync to ${w.sync.bucket}/${w.sync.prefix}` : " · no state sync"}
      </p>
    </article>
  );
}

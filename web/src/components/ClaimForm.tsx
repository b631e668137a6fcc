/** Claim a container of a workload for a tenant. */
import { useState, type FormEvent } from "react";
import type { Claim } from "../api.ts";
import { useClient } from "../client-context.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function ClaimForm({ workloads, onClaimed }: { workloads: string[]; onClaimed: () => void }) {
  const client = useClient();
  const [workload, setWorkload] = useState("");
  const [tenant, setTenant] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [claim, setClaim] = useState<Claim | null>(null);
  const chosen = workload || workloads[0] || "";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setClaim(null);
    try {
      setClaim(await client.claim(chosen, tenant.trim()));
      setTenant("");
      onClaimed();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card claim-form" onSubmit={submit} aria-labelledby="claim-title">
      <h2 id="claim-title" className="section-title">
        Claim for a tenant
      </h2>
      <div className="field-row">
        <label className="field">
          <span>Workload</span>
          <select value={chosen} onChange={(e) => setWorkload(e.target.value)} disabled={workloads.length === 0}>
            {workloads.map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Tenant id</span>
          <input required value={tenant} onChange={(e) => setTenant(e.target.value)} placeholder="acme-42" />
        </label>
        <button type="submit" className="button primary align-end" disabled={busy || !chosen}>
          {busy ? "Claiming…" : "Claim"}
        </button>
      </div>
      <ErrorNotice error={error} title="Could not claim" />
      {claim && (
        <div className="notice notice-ok" role="status">
          <strong>{claim.tenantId}</strong> got a container from the {claim.source === "pool" ? "warm pool" : claim.source === "cold" ? "cold path" : "existing claim"} in{" "}
          {Math.round(claim.latencyMs)}ms
          {claim.endpoint && (
            <>
              {" "}
              —{" "}
              <a href={claim.endpoint.url} target="_blank" rel="noreferrer">
                {claim.endpoint.url}
              </a>
            </>
          )}
        </div>
      )}
    </form>
  );
}

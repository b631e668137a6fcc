/** Redeploy, stop, delete (delete asks first, in place). */
import { useState } from "react";
import type { Deployment } from "../api.ts";
import { useClient } from "../client-context.ts";
import { navigate } from "../router.tsx";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function DeploymentActions({ deployment: d, onChanged }: { deployment: Deployment; onChanged: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState(false);

  const act = async (what: string, run: () => Promise<unknown>, after?: () => void) => {
    setBusy(what);
    setError(undefined);
    try {
      await run();
      (after ?? onChanged)();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const inFlight = d.status === "queued" || d.status === "building" || d.status === "deploying";
  return (
    <div className="actions">
      <div className="action-row">
        <button type="button" className="button" disabled={!!busy} onClick={() => act("redeploy", () => client.redeploy(d.id))}>
          {busy === "redeploy" ? "Redeploying…" : "Redeploy"}
        </button>
        <button type="button" className="button" disabled={!!busy || d.status === "stopped" || inFlight} onClick={() => act("stop", () => client.stop(d.id))}>
          {busy === "stop" ? "Stopping…" : "Stop"}
        </button>
        {!confirming && (
          <button type="button" className="button danger" disabled={!!busy} onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </div>
      {confirming && (
        <div className="confirm" role="alertdialog" aria-labelledby="confirm-text">
          <p id="confirm-text">
            Delete <strong>{d.name}</strong>? Its container, route, images, logs and history are removed. This cannot be undone.
          </p>
          <div className="action-row">
            <button
              type="button"
              className="button danger"
              autoFocus
              disabled={!!busy}
              onClick={() => act("delete", () => client.remove(d.id), () => navigate("/"))}
            >
              {busy === "delete" ? "Deleting…" : `Delete ${d.name}`}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <ErrorNotice error={error} title="Action failed" />
    </div>
  );
}

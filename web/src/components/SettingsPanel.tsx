/** A few of the app's settings at a glance (replicas, port, health path, volumes); replicas and health path editable. */
import { useState, type FormEvent } from "react";
import type { Settings, SettingsPatch } from "../api.ts";
import { useClient } from "../client-context.ts";
import { useChange } from "../lib/use-change.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function SettingsPanel({ deploymentId, settings: s, onChanged }: { deploymentId: string; settings: Settings; onChanged: () => void }) {
  const client = useClient();
  const change = useChange(onChanged);
  const [editing, setEditing] = useState(false);
  const [replicas, setReplicas] = useState(String(s.replicas));
  const [healthPath, setHealthPath] = useState(s.healthcheck?.path ?? "");

  const startEdit = () => {
    setReplicas(String(s.replicas));
    setHealthPath(s.healthcheck?.path ?? "");
    setEditing(true);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const patch: SettingsPatch = {};
    if (Number(replicas) !== s.replicas) patch.replicas = Number(replicas);
    const path = healthPath.trim();
    if (path !== (s.healthcheck?.path ?? "")) patch.healthcheck = path ? { ...(s.healthcheck ?? {}), path } : null;
    if (Object.keys(patch).length === 0) return setEditing(false);
    if (await change.run("save", () => client.patchSettings(deploymentId, patch, { wait: true }))) setEditing(false);
  };

  return (
    <section className="card" aria-labelledby="settings-title" data-testid="settings-panel">
      <h2 id="settings-title" className="section-title">
        Settings
      </h2>
      <dl className="settings-list">
        <dt>Replicas</dt>
        <dd data-testid="setting-replicas">{s.replicas}</dd>
        <dt>Port</dt>
        <dd data-testid="setting-port">{s.port ?? "auto"}</dd>
        <dt>Health check</dt>
        <dd data-testid="setting-health">{s.healthcheck ? <code>{s.healthcheck.path}</code> : <span className="muted">none</span>}</dd>
        <dt>Volumes</dt>
        <dd data-testid="setting-volumes">{s.volumes.length ? s.volumes.map((v) => <code key={v.name}>{`${v.name}:${v.path}`} </code>) : <span className="muted">none</span>}</dd>
      </dl>
      {editing ? (
        <form onSubmit={save} data-testid="settings-form" aria-label="Edit settings">
          <div className="field-row">
            <label className="field">
              <span>Replicas</span>
              <input type="number" min={1} max={16} required value={replicas} onChange={(e) => setReplicas(e.target.value)} />
            </label>
            <label className="field">
              <span>Health check path</span>
              <input value={healthPath} onChange={(e) => setHealthPath(e.target.value)} placeholder="/healthz (empty: none)" pattern="/\S*" spellCheck={false} />
            </label>
            <button type="submit" className="button primary align-end" disabled={!!change.busy}>
              {change.busy ? "Applying…" : "Save"}
            </button>
            <button type="button" className="button align-end" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="button small" onClick={startEdit}>
          Edit
        </button>
      )}
      {change.result && (
        <div className="notice notice-ok" role="status" data-testid="settings-result">
          {change.result}
        </div>
      )}
      <ErrorNotice error={change.error} title="Could not change the settings" />
    </section>
  );
}

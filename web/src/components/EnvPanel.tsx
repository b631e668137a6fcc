/** The app's env: names and flags (values are write-only, never shown), set one, remove one. */
import type { EnvVar } from "../api.ts";
import { useClient } from "../client-context.ts";
import { useChange } from "../lib/use-change.ts";
import { EnvForm, type EnvFormValue } from "./EnvForm.tsx";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function EnvPanel({ deploymentId, vars, onChanged }: { deploymentId: string; vars: EnvVar[]; onChanged: () => void }) {
  const client = useClient();
  const change = useChange(onChanged);

  const set = (v: EnvFormValue) =>
    change.run("set", () => client.patchEnv(deploymentId, { set: { [v.name]: v.buildTime ? { value: v.value, buildTime: true } : v.value } }, { wait: true }));
  const remove = (key: string) => change.run(`unset:${key}`, () => client.patchEnv(deploymentId, { unset: [key] }, { wait: true }));

  return (
    <section className="card" aria-labelledby="env-title" data-testid="env-panel">
      <h2 id="env-title" className="section-title">
        Environment
      </h2>
      {vars.length === 0 ? (
        <p className="muted">No variables.</p>
      ) : (
        <ul className="env-list">
          {vars.map((v) => (
            <li key={v.key} data-testid="env-row" data-key={v.key}>
              <code>{v.key}</code>
              {v.secret && <span className="badge badge-muted">secret</span>}
              {v.buildTime && <span className="badge badge-pending">build-time</span>}
              <button type="button" className="button small danger" disabled={!!change.busy} onClick={() => void remove(v.key)} aria-label={`Remove ${v.key}`}>
                {change.busy === `unset:${v.key}` ? "Removing…" : "Remove"}
              </button>
            </li>
          ))}
        </ul>
      )}
      <EnvForm busy={!!change.busy} onSubmit={set} />
      {change.result && (
        <div className="notice notice-ok" role="status" data-testid="env-result">
          {change.result}
        </div>
      )}
      <ErrorNotice error={change.error} title="Could not change the environment" />
    </section>
  );
}

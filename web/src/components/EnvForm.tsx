/** Set one env variable: name, value (a password field: write-only), build-time flag. */
import { useState, type FormEvent } from "react";

export interface EnvFormValue {
  name: string;
  value: string;
  buildTime: boolean;
}

export function EnvForm({ busy, onSubmit }: { busy: boolean; onSubmit: (v: EnvFormValue) => Promise<boolean> }) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [buildTime, setBuildTime] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await onSubmit({ name: name.trim(), value, buildTime })) {
      setName("");
      setValue("");
      setBuildTime(false);
    }
  };

  return (
    <form onSubmit={submit} data-testid="env-form" aria-label="Set a variable">
      <div className="field-row">
        <label className="field">
          <span>Name</span>
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="API_URL" pattern="[A-Za-z_][A-Za-z0-9_]*" autoComplete="off" spellCheck={false} />
        </label>
        <label className="field">
          <span>Value</span>
          <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="new-password" />
        </label>
        <label className="checkbox align-end">
          <input type="checkbox" checked={buildTime} onChange={(e) => setBuildTime(e.target.checked)} /> Build-time
        </label>
        <button type="submit" className="button primary align-end" disabled={busy}>
          {busy ? "Applying…" : "Set"}
        </button>
      </div>
    </form>
  );
}

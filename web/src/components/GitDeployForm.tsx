/** Deploy from Git: a URL, and optionally a name and a ref. */
import { useState, type FormEvent } from "react";
import type { Deployment } from "../api.ts";
import { useClient } from "../client-context.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function GitDeployForm({ onCreated }: { onCreated: (d: Deployment) => void }) {
  const client = useClient();
  const [gitUrl, setGitUrl] = useState("");
  const [name, setName] = useState("");
  const [ref, setRef] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const d = await client.createFromGit({ gitUrl: gitUrl.trim(), ...(name.trim() ? { name: name.trim() } : {}), ...(ref.trim() ? { ref: ref.trim() } : {}) });
      setGitUrl("");
      setName("");
      setRef("");
      onCreated(d);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="git-form" onSubmit={submit} aria-label="Deploy from Git">
      <h3>From a Git repository</h3>
      <label className="field">
        <span>Git URL</span>
        <input type="url" required value={gitUrl} onChange={(e) => setGitUrl(e.target.value)} placeholder="https://github.com/you/app.git" />
      </label>
      <div className="field-row">
        <label className="field">
          <span>Name (optional)</span>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="generated" pattern="[a-z0-9\-]*" title="lowercase letters, digits and -" />
        </label>
        <label className="field">
          <span>Ref (optional)</span>
          <input value={ref} onChange={(e) => setRef(e.target.value)} placeholder="default branch" />
        </label>
      </div>
      <ErrorNotice error={error} title="Could not deploy" />
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? "Deploying…" : "Deploy"}
      </button>
    </form>
  );
}

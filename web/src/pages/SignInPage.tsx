/** Sign in: paste the API token; it is checked against the API before it is kept. */
import { useState, type FormEvent } from "react";
import { plainClient } from "../api.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { navigate, useLocation } from "../router.tsx";
import { setToken, takeSignOutReason } from "../session.ts";

export function SignInPage() {
  const { query } = useLocation();
  const [reason] = useState(() => takeSignOutReason());
  const [token, setTokenInput] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) return setError(new Error("paste the API token first"));
    setBusy(true);
    setError(undefined);
    try {
      await plainClient(value).listDeployments();
      setToken(value);
      const next = query.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <form className="card signin-card" onSubmit={submit}>
        <h1>
          <span className="brand-mark" aria-hidden="true">▲</span> Sign in to Kiln
        </h1>
        <p className="muted">
          Paste the API token. Kiln printed it at first start; it is also in <code>.kiln/api-token</code>.
        </p>
        {reason && !error && (
          <div className="notice notice-warn" role="status">
            {reason}
          </div>
        )}
        <ErrorNotice error={error} title="Could not sign in" />
        <label className="field">
          <span>API token</span>
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setTokenInput(e.target.value)}
            placeholder="kiln_…"
          />
        </label>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

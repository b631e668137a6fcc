/**
 * A day-two change (env, settings, rollback) run from a panel: busy while the API waits for the new
 * release to serve, then its outcome in words, or the error (the old release still serving).
 */
import { useCallback, useState } from "react";
import type { Change } from "../api.ts";

export interface ChangeState {
  /** What is running now (a label the panel chose), or null. */
  busy: string | null;
  error: unknown;
  /** The last outcome as a sentence. */
  result: string | null;
  run: (label: string, change: () => Promise<Change>) => Promise<boolean>;
}

export function useChange(onDone: () => void): ChangeState {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<string | null>(null);
  const run = useCallback(
    async (label: string, change: () => Promise<Change>) => {
      setBusy(label);
      setError(undefined);
      setResult(null);
      try {
        setResult(changeText(await change()));
        return true;
      } catch (err) {
        setError(err);
        return false;
      } finally {
        setBusy(null);
        onDone();
      }
    },
    [onDone],
  );
  return { busy, error, result, run };
}

/** "Release #5 serving (rollback to release #3)"; never a value. */
export function changeText(c: Change): string {
  if (c.applied === "released" && c.release) return `Release #${c.release.number} serving (${c.release.description})`;
  if (c.applied === "saved") return "Saved: it applies with the next deploy";
  return "A new release is on its way";
}

/**
 * A stored line shown among its neighbours, for a search result the live view does not hold (not
 * loaded yet, or hidden by its filters): the lines from seq−R to seq+R of every stream, asked of the
 * same search API by seq bounds, oldest first, the result marked.
 */
import { useEffect, useState } from "react";
import type { KilnClient } from "../../../src/client/api-client.ts";
import { searchLogs, type LogLine } from "../api.ts";
import { contextParams } from "../logs/search-model.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { LogStamp } from "./LogRow.tsx";

const RADIUS = 10;

export function LogContext({ client, deploymentId, seq, why, onClose }: { client: KilnClient; deploymentId: string; seq: number; why: string; onClose: () => void }) {
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const ctl = new AbortController();
    setLines(null);
    setError(null);
    searchLogs(client, deploymentId, contextParams(seq, RADIUS), ctl.signal).then(
      (page) => !ctl.signal.aborted && setLines(page.lines.slice().reverse()),
      (err) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [client, deploymentId, seq]);

  return (
    <div className="log-context" data-testid="log-context" aria-label={`Lines around seq ${seq}`} role="region">
      <div className="log-context-head">
        <span>
          Line {seq} in context <span className="muted">({why})</span>
        </span>
        <button type="button" className="button small" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorNotice error={error} title="Could not load the lines around it" />
      {lines === null && !error && <p className="muted">Loading…</p>}
      {lines && (
        <ol className="search-hits">
          {lines.map((l) => (
            <li key={l.seq} className={`search-hit stream-${l.stream}${l.seq === seq ? " current" : ""}`} data-seq={l.seq} aria-current={l.seq === seq ? "true" : undefined}>
              <LogStamp line={l} />
              <span className="log-text">{l.text}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** One log line at a fixed height: time, stream, text (search matches marked); and the seq/time/stream stamp search results show. */
import { memo } from "react";
import type { LogLine } from "../api.ts";
import { clockTime } from "../lib/format.ts";
import { splitMatches } from "../logs/log-filter.ts";

export const LogRow = memo(function LogRow({ line, top, height, query, selected = false }: { line: LogLine; top: number; height: number; query: string; selected?: boolean }) {
  return (
    <div
      className={`log-row stream-${line.stream}${selected ? " selected" : ""}`}
      style={{ top, height, lineHeight: `${height}px` }}
      data-seq={line.seq}
      aria-current={selected ? "true" : undefined}
    >
      <span className="log-time">{clockTime(line.ts)}</span>
      <span className="log-stream">{line.stream}</span>
      <span className="log-text">
        {splitMatches(line.text, query).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
      </span>
    </div>
  );
});

/** A line's seq, time (the full date in the tooltip) and stream, as search results and context show them. */
export function LogStamp({ line }: { line: LogLine }) {
  const d = new Date(line.ts);
  return (
    <>
      <span className="hit-seq">#{line.seq}</span>
      <time className="log-time" dateTime={d.toISOString()} title={d.toString()}>
        {clockTime(line.ts)}
      </time>
      <span className="log-stream">{line.stream}</span>
    </>
  );
}

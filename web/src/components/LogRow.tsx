/** One log line at a fixed height: time, stream, text (search matches marked). */
import { memo } from "react";
import type { LogLine } from "../api.ts";
import { clockTime } from "../lib/format.ts";
import { splitMatches } from "../logs/log-filter.ts";

export const LogRow = memo(function LogRow({ line, top, height, query }: { line: LogLine; top: number; height: number; query: string }) {
  return (
    <div className={`log-row stream-${line.stream}`} style={{ top, height, lineHeight: `${height}px` }} data-seq={line.seq}>
      <span className="log-time">{clockTime(line.ts)}</span>
      <span className="log-stream">{line.stream}</span>
      <span className="log-text">
        {splitMatches(line.text, query).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
      </span>
    </div>
  );
});

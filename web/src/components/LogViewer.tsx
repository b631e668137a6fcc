/**
 * The log viewer: virtualized (only the rows on screen are in the DOM, so 100,000 lines scroll
 * smoothly), follows the tail while scrolled to the bottom, keeps scroll-back, tells build,
 * runtime and system lines apart (colour + filter toggles), filters the loaded lines, and searches
 * the whole stored log through the API (LogSearchPanel), jumping to a result when it is loaded.
 */
import { useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type UIEvent } from "react";
import type { KilnClient } from "../../../src/client/api-client.ts";
import type { LogLine } from "../api.ts";
import { FilteredView, STREAMS, type Stream } from "../logs/log-filter.ts";
import { useLogStream } from "../logs/use-log-stream.ts";
import { seqIndex, sortedIndex } from "../logs/search-model.ts";
import { isAtBottom, visibleRange } from "../logs/virtual-range.ts";
import { LogRow } from "./LogRow.tsx";
import { LogSearchPanel, type Located } from "./LogSearchPanel.tsx";

export const ROW_HEIGHT = 20;

export function LogViewer({ client, deploymentId }: { client: KilnClient; deploymentId: string }) {
  const { buffer, version, state } = useLogStream(client, deploymentId);
  const [streams, setStreams] = useState<Record<Stream, boolean>>({ build: true, runtime: true, system: true });
  const [queryInput, setQueryInput] = useState("");
  const query = useDeferredValue(queryInput);
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const viewport = useRef<HTMLDivElement>(null);
  const view = useRef(new FilteredView());
  const [selected, setSelected] = useState<number | null>(null);

  // `version` marks new lines in the (mutable) buffer.
  const indices = useMemo(() => view.current.sync(buffer.lines, { streams, query }), [buffer, version, streams, query]);
  const count = indices.length;
  const total = buffer.lines.length;
  const { start, end } = visibleRange(scrollTop, height, ROW_HEIGHT, count, 15);

  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  // Following: stick to the bottom as lines arrive or the filter changes.
  useLayoutEffect(() => {
    const el = viewport.current;
    if (follow && el) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [follow, count, height]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    setScrollTop(el.scrollTop);
    const bottom = isAtBottom(el.scrollTop, el.clientHeight, el.scrollHeight, ROW_HEIGHT);
    if (bottom !== follow) setFollow(bottom);
  };

  const jumpToEnd = () => {
    setFollow(true);
    const el = viewport.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  // A search result: scroll the live view to it (follow stops; "Follow latest" resumes) if it is there.
  const locate = (line: LogLine): Located => {
    const at = seqIndex(buffer.lines, line.seq);
    if (at < 0) return "not loaded in the live view yet";
    const row = sortedIndex(indices, at);
    if (row < 0) return "hidden by the live view's filters";
    const el = viewport.current;
    setFollow(false);
    setSelected(line.seq);
    if (el) {
      el.scrollTop = Math.max(0, row * ROW_HEIGHT - el.clientHeight / 2);
      setScrollTop(el.scrollTop);
    }
    return "shown";
  };

  const rows = [];
  for (let i = start; i < end; i++) {
    const line = buffer.lines[indices[i] ?? -1];
    if (line) rows.push(<LogRow key={line.seq} line={line} top={i * ROW_HEIGHT} height={ROW_HEIGHT} query={query} selected={line.seq === selected} />);
  }

  return (
    <section className="logs" aria-labelledby="logs-title">
      <div className="logs-toolbar">
        <h2 id="logs-title" className="section-title">
          Logs
        </h2>
        <div className="logs-toggles" role="group" aria-label="Show streams">
          {STREAMS.map((s) => (
            <button
              key={s}
              type="button"
              className={`toggle stream-${s}`}
              aria-pressed={streams[s]}
              onClick={() => setStreams((cur) => ({ ...cur, [s]: !cur[s] }))}
            >
              <span className="dot" aria-hidden="true" />
              {s}
            </button>
          ))}
        </div>
        <label className="logs-search">
          <span className="visually-hidden">Search logs</span>
          <input type="search" placeholder="Search logs…" value={queryInput} onChange={(e) => setQueryInput(e.target.value)} />
        </label>
      </div>
      <LogSearchPanel client={client} deploymentId={deploymentId} streams={streams} locate={locate} />
      <div
        ref={viewport}
        className="logs-viewport"
        role="log"
        aria-live="off"
        aria-label="Log lines"
        tabIndex={0}
        onScroll={onScroll}
        data-testid="log-viewport"
      >
        <div className="logs-spacer" style={{ height: count * ROW_HEIGHT }}>
          {rows}
        </div>
        {count === 0 && <p className="logs-empty">{total === 0 ? "Waiting for log lines…" : "No lines match."}</p>}
      </div>
      <div className="logs-status">
        <span data-testid="log-count">
          {query || !(streams.build && streams.runtime && streams.system) ? `${count.toLocaleString()} of ${total.toLocaleString()} lines` : `${total.toLocaleString()} lines`}
        </span>
        <span className={`stream-state state-${state}`}>{state === "live" ? "● live" : state === "connecting" ? "connecting…" : "reconnecting…"}</span>
        {!follow && (
          <button type="button" className="button small" onClick={jumpToEnd}>
            ↓ Follow latest
          </button>
        )}
      </div>
    </section>
  );
}

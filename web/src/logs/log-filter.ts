/**
 * Which log lines a viewer shows: the streams switched on and a search query. `FilteredView` keeps
 * the matching line indices and extends them as lines arrive, so a 100,000-line log is scanned once
 * per filter change, not once per new line.
 */
import type { LogLine } from "../api.ts";

export type Stream = LogLine["stream"];
export const STREAMS: readonly Stream[] = ["build", "runtime", "system"];

export interface LogFilter {
  streams: Readonly<Record<Stream, boolean>>;
  query: string;
}

export function matchesFilter(line: LogLine, f: LogFilter, needle = f.query.toLowerCase()): boolean {
  if (!f.streams[line.stream]) return false;
  return needle === "" || line.text.toLowerCase().includes(needle);
}

export class FilteredView {
  /** Indices into the lines array, ascending. */
  indices: number[] = [];
  private scanned = 0;
  private key = "";
  private source: readonly LogLine[] | null = null;

  /** Bring `indices` up to date with `lines` under `filter`; cheap when nothing changed. */
  sync(lines: readonly LogLine[], filter: LogFilter): number[] {
    const key = `${filter.streams.build ? 1 : 0}${filter.streams.runtime ? 1 : 0}${filter.streams.system ? 1 : 0}:${filter.query.toLowerCase()}`;
    if (key !== this.key || lines !== this.source || lines.length < this.scanned) {
      this.key = key;
      this.source = lines;
      this.scanned = 0;
      this.indices = [];
    }
    if (this.scanned === lines.length) return this.indices;
    const needle = filter.query.toLowerCase();
    const next = this.indices.slice();
    for (let i = this.scanned; i < lines.length; i++) {
      const line = lines[i];
      if (line && matchesFilter(line, filter, needle)) next.push(i);
    }
    this.scanned = lines.length;
    this.indices = next;
    return next;
  }
}

/** `text` cut around the (case-insensitive) matches of `query`: [before, match, between, match, …]. */
export function splitMatches(text: string, query: string): { text: string; match: boolean }[] {
  if (!query) return [{ text, match: false }];
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: { text: string; match: boolean }[] = [];
  let at = 0;
  for (let hit = lower.indexOf(needle); hit !== -1; hit = lower.indexOf(needle, at)) {
    if (hit > at) parts.push({ text: text.slice(at, hit), match: false });
    parts.push({ text: text.slice(hit, hit + needle.length), match: true });
    at = hit + needle.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), match: false });
  return parts;
}

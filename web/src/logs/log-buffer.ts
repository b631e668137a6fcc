/**
 * A deployment's log lines as received: append-only, in seq order, no duplicates (a reconnect
 * replays from `lastSeq + 1`, and anything at or below it is dropped).
 */
import type { LogLine } from "../api.ts";

export class LogBuffer {
  readonly lines: LogLine[] = [];
  lastSeq = 0;

  /** Adds the line unless it was seen already; true when added. */
  push(line: LogLine): boolean {
    if (line.seq <= this.lastSeq) return false;
    this.lines.push(line);
    this.lastSeq = line.seq;
    return true;
  }
}

/**
 * The log stream protocol, version 2 (WS …/logs?v=2): what a frame is. Pure types and constants,
 * shared by the server (./logs-ws.ts), the client and the dashboard. Every frame is one JSON text
 * message with a `type`:
 *   {"type":"lines","lines":[LogLine…]}   many lines, ascending seq, no gap, no duplicate
 *   {"type":"replayed","seq":N}            the past is sent: N is the last seq sent so far (since-1 if none); live lines follow
 *   {"type":"cut","resumeFrom":N}          the reader fell too far behind; the socket closes with CLOSE_CUT; reconnect with since=N
 * Version 1 (no `v`) stays as it was: one bare LogLine per message.
 */
import type { LogLine } from "../core/logs.ts";

export const LOG_PROTOCOL_VERSION = 2;

/** Close code after a `cut` frame: the subscriber read too slowly; resume from the frame's seq. */
export const CLOSE_CUT = 4008;

export type LogFrame =
  | { type: "lines"; lines: LogLine[] }
  | { type: "replayed"; seq: number }
  | { type: "cut"; resumeFrom: number };

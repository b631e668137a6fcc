/** One log line of a stream (a deployment's log or a tenant's: src/logs/streams.ts). `seq` is per stream, dense, starting at 1. */
export type LogStream = "build" | "runtime" | "system";

export interface LogLine {
  seq: number;
  ts: number; // epoch milliseconds
  stream: LogStream;
  text: string;
}

/** Where pipeline steps and adapters write their output. */
export type LogSink = (stream: LogStream, text: string) => void;

/**
 * Where a line came from in the engine's log of a container, as the log cursor counts
 * (src/containers/log-cursor.ts): its output stream, engine time (ns) and how many lines taken
 * carry that time. Stored with the chunk that holds the line, so a Kiln restarted after a crash
 * resumes reading each container just after the last line it stored.
 */
export interface SourceMark {
  container: string;
  output: "stdout" | "stderr";
  ns: bigint;
  count: number;
}

/** A sink whose lines may say where they came from (the runtime watcher's). */
export type MarkedSink = (stream: LogStream, text: string, mark?: SourceMark) => void;

/**
 * The key of a log stream: a deployment's log or a tenant's. Each stream has its own dense seq.
 * Keys are made only by src/logs/streams.ts.
 */
export type StreamKey = string;

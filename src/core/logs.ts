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
 * The key of a log stream: a deployment's log or a tenant's. Each stream has its own dense seq.
 * Keys are made only by src/logs/streams.ts.
 */
export type StreamKey = string;

/** One log line of a deployment. `seq` is per deployment, dense, starting at 1. */
export type LogStream = "build" | "runtime" | "system";

export interface LogLine {
  seq: number;
  ts: number; // epoch milliseconds
  stream: LogStream;
  text: string;
}

/** Where pipeline steps and adapters write their output. */
export type LogSink = (stream: LogStream, text: string) => void;

/**
 * Reading a Swarm service's (or one task's) output: `GET /services/{id}/logs` and `GET /tasks/{id}/logs`
 * with `timestamps=1`. What dockerd 20.10 answers (tried against it): the same multiplexed frames as
 * a container's logs, one line a frame, each "<RFC 3339 ns stamp> <text>"; with `details=1` the
 * stamp is followed by the line's attributes, "com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,
 * com.docker.swarm.task.id=… " (query-escaped, comma-separated). `since` takes "s.ns" and is
 * inclusive to the nanosecond, as for containers. A follow of a service takes in the tasks that start
 * while it runs (an update's new tasks), and interleaves the tasks' lines as they arrive: times go
 * down between tasks, never within one task's output stream — so the task id is each line's key.
 */
import type { OutputStream } from "../../formats/log-demux.ts";
import { LogDemuxer } from "../../formats/log-demux.ts";
import type { EngineHttp } from "../docker/http.ts";
import { sinceParam, splitStamp } from "../docker/log-stamps.ts";

export interface ServiceLogEntry {
  /** The task that wrote the line. */
  task: string;
  stream: OutputStream;
  /** Engine time, ns since the epoch. */
  ns: bigint;
  text: string;
}

export interface ServiceLogRead {
  /** true: keep reading as tasks write (a service's follow ends only when it is removed or the engine goes). */
  follow: boolean;
  /** Inclusive engine time (ns) to read from; absent: everything the engine keeps. */
  since?: bigint;
  signal: AbortSignal;
  onEntry: (e: ServiceLogEntry) => void;
}

const TASK_ATTR = "com.docker.swarm.task.id=";

/** The line after its stamp, with `details=1`: its task id and its text (null: no task attribute). */
export function splitDetails(rest: string): { task: string; text: string } | null {
  const space = rest.indexOf(" ");
  const attrs = space < 0 ? rest : rest.slice(0, space);
  const at = attrs.indexOf(TASK_ATTR);
  if (at < 0) return null;
  const end = attrs.indexOf(",", at);
  const task = decodeURIComponent(attrs.slice(at + TASK_ATTR.length, end < 0 ? undefined : end));
  return { task, text: space < 0 ? "" : rest.slice(space + 1) };
}

/** A service's output, every task's, each line with its task. Lines without a stamp or task are skipped (none are expected). */
export function readServiceLogs(http: EngineHttp, service: string, opts: ServiceLogRead): Promise<void> {
  return read(http, `/services/${encodeURIComponent(service)}/logs`, true, opts, (rest) => splitDetails(rest));
}

/** One task's output (its container's, through Swarm), ending with what the engine keeps when not following. */
export function readTaskLogs(http: EngineHttp, task: string, opts: ServiceLogRead): Promise<void> {
  return read(http, `/tasks/${encodeURIComponent(task)}/logs`, false, opts, (text) => ({ task, text }));
}

async function read(http: EngineHttp, path: string, details: boolean, opts: ServiceLogRead, split: (rest: string) => { task: string; text: string } | null): Promise<void> {
  const query = {
    follow: opts.follow,
    stdout: true,
    stderr: true,
    timestamps: true,
    details: details || undefined,
    since: opts.since === undefined ? undefined : sinceParam(opts.since),
  };
  if (opts.signal.aborted) return;
  const demux = new LogDemuxer((stream, line) => {
    const stamped = splitStamp(line);
    if (!stamped) return;
    const e = split(stamped.text);
    if (e) opts.onEntry({ task: e.task, stream, ns: stamped.ns, text: e.text });
  });
  try {
    await http.stream({ path, query, signal: opts.signal }, (bytes) => demux.push(bytes));
    demux.end();
  } catch (err) {
    if (opts.signal.aborted) return; // asked to stop: not a failure
    throw err;
  }
}

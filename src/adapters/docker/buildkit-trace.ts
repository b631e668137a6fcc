/**
 * Decode the BuildKit progress of a `POST /build?version=2` into human log lines.
 * Each `{"id":"moby.buildkit.trace","aux":"<base64>"}` message carries one protobuf
 * moby.buildkit.v1.StatusResponse:
 *   StatusResponse{1: repeated Vertex, 2: repeated VertexStatus, 3: repeated VertexLog, 4: repeated VertexWarning}
 *   Vertex{1: digest, 2: inputs, 3: name, 4: cached, 5: started, 6: completed, 7: error}
 *   VertexLog{1: vertex, 2: timestamp, 3: stream, 4: msg}
 *   VertexWarning{1: vertex, 2: level, 3: short}
 *   Timestamp{1: seconds, 2: nanos}
 *
 * Lines produced: the vertex name when it starts ("[2/3] RUN npm ci"), "<name> CACHED",
 * "<name> DONE 1.2s", its output split into lines, and "ERROR <name>: <error>".
 * The names of the steps BuildKit reused from its cache are kept (cachedSteps()).
 */
import { fields, utf8 } from "../../formats/protobuf-wire.ts";

export interface TraceVertex {
  digest: string;
  name: string;
  cached: boolean;
  startedMs?: number;
  completedMs?: number;
  error?: string;
}

export interface TraceLog {
  vertex: string;
  stream: number;
  msg: Uint8Array;
}

export interface TraceStatus {
  vertexes: TraceVertex[];
  logs: TraceLog[];
  warnings: { vertex: string; short: string }[];
}

function timestampMs(bytes: Uint8Array): number {
  let seconds = 0;
  let nanos = 0;
  for (const f of fields(bytes)) {
    if (f.wire !== "varint") continue;
    if (f.no === 1) seconds = f.value;
    if (f.no === 2) nanos = f.value;
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

function decodeVertex(bytes: Uint8Array): TraceVertex {
  const v: TraceVertex = { digest: "", name: "", cached: false };
  for (const f of fields(bytes)) {
    if (f.wire === "varint" && f.no === 4) v.cached = f.value !== 0;
    if (f.wire !== "bytes") continue;
    if (f.no === 1) v.digest = utf8(f.bytes);
    else if (f.no === 3) v.name = utf8(f.bytes);
    else if (f.no === 5) v.startedMs = timestampMs(f.bytes);
    else if (f.no === 6) v.completedMs = timestampMs(f.bytes);
    else if (f.no === 7) v.error = utf8(f.bytes);
  }
  return v;
}

function decodeLog(bytes: Uint8Array): TraceLog {
  const log: TraceLog = { vertex: "", stream: 1, msg: new Uint8Array() };
  for (const f of fields(bytes)) {
    if (f.no === 1 && f.wire === "bytes") log.vertex = utf8(f.bytes);
    else if (f.no === 3 && f.wire === "varint") log.stream = f.value;
    else if (f.no === 4 && f.wire === "bytes") log.msg = f.bytes;
  }
  return log;
}

function decodeWarning(bytes: Uint8Array): { vertex: string; short: string } {
  const w = { vertex: "", short: "" };
  for (const f of fields(bytes)) {
    if (f.wire !== "bytes") continue;
    if (f.no === 1) w.vertex = utf8(f.bytes);
    else if (f.no === 3) w.short = utf8(f.bytes);
  }
  return w;
}

/** Decode one StatusResponse (the bytes of a trace message's base64 `aux`). */
export function decodeStatus(bytes: Uint8Array): TraceStatus {
  const status: TraceStatus = { vertexes: [], logs: [], warnings: [] };
  for (const f of fields(bytes)) {
    if (f.wire !== "bytes") continue;
    if (f.no === 1) status.vertexes.push(decodeVertex(f.bytes));
    else if (f.no === 3) status.logs.push(decodeLog(f.bytes));
    else if (f.no === 4) status.warnings.push(decodeWarning(f.bytes));
    // 2 (VertexStatus: pull/copy progress counters) is not shown.
  }
  return status;
}

export interface BuildFailure {
  /** The failing vertex's name, e.g. "[3/3] RUN npm run build". */
  step: string;
  error: string;
  /** Its last output lines. */
  tail: string[];
}

interface VertexState {
  name: string;
  announced: boolean;
  cached: boolean;
  done: boolean;
  partial: string;
  tail: string[];
}

const TAIL = 20;

/**
 * Stateful: vertexes arrive repeatedly (started, then completed), and log messages may
 * split a line anywhere, so feed every trace message of one build to one decoder.
 */
export class BuildTraceDecoder {
  readonly #vertexes = new Map<string, VertexState>();
  readonly #decoder = new TextDecoder();
  #failure: BuildFailure | null = null;

  constructor(private readonly onLine: (text: string) => void) {}

  /** Feed the base64 `aux` of one `moby.buildkit.trace` message. */
  push(auxBase64: string): void {
    this.apply(decodeStatus(Buffer.from(auxBase64, "base64")));
  }

  apply(status: TraceStatus): void {
    for (const v of status.vertexes) this.#vertex(v);
    for (const log of status.logs) this.#log(log);
    for (const w of status.warnings) this.onLine(`WARN ${w.short}`);
  }

  /** Emit partial lines still buffered (call when the build stream ends). */
  flush(): void {
    for (const state of this.#vertexes.values()) this.#flushPartial(state);
  }

  /** The names of the steps reused from the build cache, in the order BuildKit reported them. */
  cachedSteps(): string[] {
    return [...this.#vertexes.values()].filter((s) => s.cached).map((s) => s.name);
  }

  /** The first vertex that reported an error, if any. */
  failure(): BuildFailure | null {
    return this.#failure;
  }

  #state(digest: string, name = ""): VertexState {
    let s = this.#vertexes.get(digest);
    if (!s) {
      s = { name, announced: false, cached: false, done: false, partial: "", tail: [] };
      this.#vertexes.set(digest, s);
    }
    if (name) s.name = name;
    return s;
  }

  #vertex(v: TraceVertex): void {
    const s = this.#state(v.digest, v.name);
    if (v.cached) s.cached = true;
    if (!s.announced && (v.startedMs !== undefined || v.cached)) {
      s.announced = true;
      this.onLine(v.cached ? `${s.name} CACHED` : s.name);
    }
    if (s.done || (v.completedMs === undefined && !v.error)) return;
    s.done = true;
    this.#flushPartial(s);
    if (v.error) {
      this.onLine(`ERROR ${s.name}: ${v.error}`);
      this.#failure ??= { step: s.name, error: v.error, tail: [...s.tail] };
    } else if (!v.cached && v.startedMs !== undefined && v.completedMs !== undefined) {
      this.onLine(`${s.name} DONE ${((v.completedMs - v.startedMs) / 1000).toFixed(1)}s`);
    }
  }

  #log(log: TraceLog): void {
    const s = this.#state(log.vertex);
    let buf = s.partial + this.#decoder.decode(log.msg);
    let i: number;
    while ((i = buf.search(/[\r\n]/)) >= 0) {
      this.#line(s, buf.slice(0, i));
      buf = buf.slice(buf[i] === "\r" && buf[i + 1] === "\n" ? i + 2 : i + 1);
    }
    s.partial = buf;
  }

  #flushPartial(s: VertexState): void {
    if (s.partial) this.#line(s, s.partial);
    s.partial = "";
  }

  #line(s: VertexState, text: string): void {
    if (!text) return;
    s.tail.push(text);
    if (s.tail.length > TAIL) s.tail.shift();
    this.onLine(text);
  }
}

/** Lines of a failed step's output quoted in the build's failure reason. */
const QUOTED_TAIL = 8;

/**
 * The failure reason of a build whose step failed: the command as the Dockerfile wrote it (without
 * BuildKit's mount flags), its exit code, and its last output lines, with every value in `hide`
 * (the build's secrets) masked. The whole output stays in the build log.
 */
export function describeFailedStep(failed: BuildFailure, hide: readonly string[] = []): string {
  const run = /^\[[^\]]*\]\s+RUN\s+(.*)$/s.exec(failed.step)?.[1];
  const command = run?.replace(/^(?:--mount=\S+\s+)+/, "").replace(/^(?:[A-Za-z_][A-Za-z0-9_]*="\$\(cat [^)]*\)" ; [^;]* ; export [A-Za-z_][A-Za-z0-9_]* ; )+/, "");
  const code = /exit code: (\d+)/.exec(failed.error)?.[1];
  const mask = (line: string) => hide.reduce((l, secret) => (secret.length >= 4 ? l.split(secret).join("***") : l), line);
  const tail = failed.tail.slice(-QUOTED_TAIL).map((l) => `  ${mask(l)}`);
  const head = command !== undefined
    ? `the build step \`${mask(command)}\` failed${code ? ` (exit code ${code})` : ""}`
    : `image build failed at ${mask(failed.step)}: ${mask(failed.error)}`;
  return tail.length > 0 ? `${head}; its last lines:\n${tail.join("\n")}` : head;
}

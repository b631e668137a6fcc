/**
 * The one place Kiln starts processes. No shell: argv is an array. Output is line-buffered
 * and handed to `onLine`. Secrets go in through env only and are redacted from every line.
 * Cancellation: an AbortSignal kills the process group's leader (SIGTERM, then SIGKILL).
 * A child's environment is exactly `baseEnv` (its caller's, from config.childEnv) plus the
 * command's own `env`: nothing of Kiln's own environment leaks in.
 */
import { Secret, redact } from "../../core/secret.ts";

export interface Command {
  argv: string[];
  cwd?: string;
  /** Added to the base environment. Secret values are revealed only here. */
  env?: Record<string, string | Secret>;
  /** Variables to remove from the base environment. */
  unsetEnv?: string[];
}

export interface RunOptions {
  /** The environment the child starts from (config.childEnv, passed down); default none at all. */
  baseEnv?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Kill after this long. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  /** The last lines of output (stdout and stderr interleaved), redacted. */
  tail: string[];
  timedOut: boolean;
}

const TAIL = 40;

export async function run(cmd: Command, opts: RunOptions = {}): Promise<RunResult> {
  const secrets: Secret[] = [];
  const env: Record<string, string> = { ...opts.baseEnv };
  for (const k of cmd.unsetEnv ?? []) delete env[k];
  for (const [k, v] of Object.entries(cmd.env ?? {})) {
    if (v instanceof Secret) secrets.push(v);
    env[k] = v instanceof Secret ? v.reveal() : v;
  }
  const proc = Bun.spawn(cmd.argv, {
    cwd: cmd.cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const kill = () => {
    proc.kill("SIGTERM");
    setTimeout(() => proc.kill("SIGKILL"), 3000).unref();
  };
  const onAbort = () => kill();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) kill();
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        kill();
      }, opts.timeoutMs)
    : null;

  const tail: string[] = [];
  const emit = (stream: "stdout" | "stderr", raw: string) => {
    const line = redact(raw, secrets);
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
    opts.onLine?.(stream, line);
  };
  await Promise.all([pump(proc.stdout, (l) => emit("stdout", l)), pump(proc.stderr, (l) => emit("stderr", l))]);
  const code = await proc.exited;
  if (timer) clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);
  return { code, tail, timedOut };
}

/** Split a byte stream into lines (\n or \r\n; a bare \r ends a progress line too). */
export async function pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.search(/[\r\n]/)) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(buf[i] === "\r" && buf[i + 1] === "\n" ? i + 2 : i + 1);
      if (line.length > 0) onLine(line);
    }
  }
  buf += decoder.decode();
  if (buf.length > 0) onLine(buf);
}

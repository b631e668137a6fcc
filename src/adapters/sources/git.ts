/**
 * Fetch a git repository: a shallow clone of a branch, tag or the default branch, or a shallow
 * fetch of one commit (a sha as the ref, or `commit`: exactly that commit, through the recent
 * history of the ref when a server refuses to send a commit by its sha). The URL and ref are validated before anything runs (bad_request);
 * git runs through the exec runner with a deadline, its output streamed as "build" lines.
 * The checked-out commit is returned and `.git` removed, keeping it out of the build context.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { KilnError, StepError } from "../../core/errors.ts";
import type { LogSink } from "../../core/logs.ts";
import type { FetchRequest, FetchResult, SourceFetcher } from "../../core/ports/source.ts";
import { type Secret, redact } from "../../core/secret.ts";
import { type Command, type RunOptions, type RunResult, run } from "../exec/run.ts";
import { commitFallbackArgvs, fetchPlan, gitEnv, revParseHeadArgv } from "./git-commands.ts";
import { fillNewDir } from "./safe-dir.ts";

export type Runner = (cmd: Command, opts?: RunOptions) => Promise<RunResult>;

export interface GitFetcherOptions {
  /** Deadline for the whole fetch; default 10 minutes. */
  timeoutMs?: number;
  /** The process runner; tests may substitute one. */
  runner?: Runner;
  /** The environment git starts from (config.childEnv); git's own settings are added to it. */
  baseEnv?: Readonly<Record<string, string>>;
}

const ERROR_LINES = 6;

export class GitFetcher implements SourceFetcher {
  readonly #timeoutMs: number;
  readonly #run: Runner;
  readonly #baseEnv: Readonly<Record<string, string>> | undefined;

  constructor(opts: GitFetcherOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 10 * 60 * 1000;
    this.#run = opts.runner ?? run;
    this.#baseEnv = opts.baseEnv;
  }

  async fetch(req: FetchRequest, destDir: string, opts: { signal?: AbortSignal; log: LogSink }): Promise<FetchResult> {
    if (req.kind !== "git") throw new KilnError("internal", `GitFetcher cannot fetch a ${req.kind} source`);
    const { url, ref, token, commit: wanted } = req;
    fetchPlan(url, destDir, ref, wanted); // validate before touching anything (throws bad_request)
    const deadline = Date.now() + this.#timeoutMs;
    const env = gitEnv(token);
    const secrets: Secret[] = token ? [token] : [];

    opts.log("system", `fetching ${url} at ${wanted ? `commit ${wanted}${ref ? ` (${ref})` : ""}` : (ref ?? "the default branch")}`);
    const commit = await fillNewDir(destDir, async (dir) => {
      const plan = fetchPlan(url, dir, ref, wanted);
      for (const [i, argv] of plan.entries()) {
        const isCommitFetch = wanted !== undefined && i === plan.length - 2;
        try {
          await this.#step({ argv, ...env }, deadline, opts, secrets, { url, ref: wanted ?? ref });
        } catch (err) {
          if (!isCommitFetch || !(err instanceof StepError) || opts.signal?.aborted) throw err;
          // Some servers serve only branch tips: reach the commit through its branch's recent history.
          opts.log("system", `the server would not send commit ${wanted} by itself; fetching the recent history of ${ref ?? "the default branch"} instead`);
          for (const fallback of commitFallbackArgvs(dir, wanted, ref)) await this.#step({ argv: fallback, ...env }, deadline, opts, secrets, { url, ref: wanted });
          break;
        }
      }
      const head = await this.#step({ argv: revParseHeadArgv(dir), ...env }, deadline, opts, secrets, { url, ref }, false);
      const sha = head.tail.at(-1)?.trim() ?? "";
      if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new StepError(`git did not report the checked-out commit (got ${JSON.stringify(sha)})`);
      if (wanted !== undefined && sha !== wanted) throw new StepError(`git checked out ${sha} instead of the commit asked for, ${wanted}`);
      await rm(join(dir, ".git"), { recursive: true, force: true });
      return sha;
    });
    opts.log("system", `checked out commit ${commit}`);
    return { commit };
  }

  async #step(
    cmd: Command,
    deadline: number,
    opts: { signal?: AbortSignal; log: LogSink },
    secrets: Secret[],
    what: { url: string; ref?: string },
    streamOutput = true,
  ): Promise<RunResult> {
    opts.signal?.throwIfAborted();
    const timeoutMs = deadline - Date.now();
    if (timeoutMs <= 0) throw timeoutError(this.#timeoutMs);
    const result = await this.#run(cmd, {
      baseEnv: this.#baseEnv,
      signal: opts.signal,
      timeoutMs,
      onLine: streamOutput ? (_stream, line) => opts.log("build", redact(line, secrets)) : undefined,
    });
    opts.signal?.throwIfAborted();
    if (result.timedOut) throw timeoutError(this.#timeoutMs);
    if (result.code !== 0) throw gitFailure(result.tail.map((l) => redact(l, secrets)), what);
    return result;
  }
}

function timeoutError(ms: number): StepError {
  return new StepError(
    `git took longer than ${ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} seconds`} and was stopped`,
    "check that the repository is reachable from this server, or deploy a smaller repository",
  );
}

/** A StepError quoting git's last lines, with a hint picked from what git said. */
export function gitFailure(tail: string[], what: { url: string; ref?: string }): StepError {
  const lines = tail.filter((l) => !/^(Cloning into|remote: (Counting|Compressing|Enumerating|Total)|Receiving objects|Resolving deltas)/.test(l));
  const last = lines.slice(-ERROR_LINES).join("\n");
  const text = lines.join("\n");
  const action = what.ref ? `fetching ${what.ref} from ${what.url}` : `cloning ${what.url}`;
  return new StepError(`git failed ${action}: ${last || "no output"}`, gitHint(text, what.ref));
}

function gitHint(text: string, ref?: string): string {
  if (/Remote branch .* not found|couldn't find remote ref|not our ref|unadvertised object|no such remote ref|fatal: invalid refspec/i.test(text)) {
    return ref && /^[0-9a-f]{7,39}$/.test(ref)
      ? "check the ref; commits must be given as the full 40-character sha"
      : `check that the branch, tag or commit ${JSON.stringify(ref ?? "")} exists in the repository`;
  }
  if (/Authentication failed|could not read Username|terminal prompts disabled|Permission denied \(publickey|\b40[13]\b/i.test(text)) {
    return "the repository needs credentials: pass an access token (https) or give the server's ssh key access";
  }
  if (/not found|does not appear to be a git repository|does not exist|no such repository|not exported|access denied/i.test(text)) {
    return "check the URL; a private repository also looks like this without an access token";
  }
  if (/Could not resolve host|Connection refused|Connection timed out|Network is unreachable|unable to access/i.test(text)) {
    return "the git server could not be reached from this server; check the URL and the network";
  }
  return "check the repository URL and ref";
}

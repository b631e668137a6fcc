/**
 * GitFetcher building a given commit (a push's `after`) against a real `git daemon`: a commit
 * that is no longer the branch tip is fetched by its sha; when a server refuses to send a commit
 * by sha, the branch's recent history is fetched instead and the commit checked out from it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../src/core/errors.ts";
import { run, type Command, type RunOptions } from "../../src/adapters/exec/run.ts";
import { GitFetcher } from "../../src/adapters/sources/git.ts";
import { childEnvOf } from "../../src/config.ts";
import { type GitDaemon, commitFiles, makeRepo, startGitDaemon } from "../helpers/git-daemon.ts";

let daemon: GitDaemon;
let first: string;
let second: string;
let third: string; // the tip: first and second are not

beforeAll(async () => {
  daemon = await startGitDaemon();
  const repo = daemon.repoDir("pushed");
  first = makeRepo(repo, { "VERSION": "1" });
  second = commitFiles(repo, { "VERSION": "2" }, "two");
  third = commitFiles(repo, { "VERSION": "3" }, "three");
});
afterAll(async () => daemon?.stop());

let work: string;
let dest: string;
let lines: string[];
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "kiln-gitcommit-"));
  dest = join(work, "src");
  lines = [];
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const baseEnv = childEnvOf(process.env);
const log = (_s: string, text: string) => void lines.push(text);

test("a pushed commit that is no longer the branch tip is what gets checked out", async () => {
  const result = await new GitFetcher({ baseEnv }).fetch({ kind: "git", url: daemon.url("pushed"), ref: "main", commit: second }, dest, { log });
  expect(result.commit).toBe(second);
  expect(readFileSync(join(dest, "VERSION"), "utf8")).toBe("2");
  expect(existsSync(join(dest, ".git"))).toBe(false);
  expect(lines[0]).toBe(`fetching ${daemon.url("pushed")} at commit ${second} (main)`);
});

test("a server that refuses a fetch by sha: the branch's recent history is fetched and the commit checked out", async () => {
  const argvs: string[][] = [];
  const refusing = new GitFetcher({
    baseEnv,
    runner: async (cmd: Command, opts?: RunOptions) => {
      argvs.push(cmd.argv);
      // As a server that serves only ref tips answers a want of another object.
      if (cmd.argv.includes("fetch") && cmd.argv.includes(first)) return { code: 128, timedOut: false, tail: [`fatal: remote error: upload-pack: not our ref ${first}`] } as Awaited<ReturnType<typeof run>>;
      return run(cmd, opts);
    },
  });
  const result = await refusing.fetch({ kind: "git", url: daemon.url("pushed"), ref: "main", commit: first }, dest, { log });
  expect(result.commit).toBe(first);
  expect(readFileSync(join(dest, "VERSION"), "utf8")).toBe("1");
  expect(lines.some((l) => l.includes("fetching the recent history of main instead"))).toBe(true);
  expect(argvs.some((a) => a.includes("fetch") && a.includes("main") && a.includes("--depth"))).toBe(true);
});

test("a commit that is not a full sha is refused before git runs", async () => {
  let spawned = 0;
  const spy = new GitFetcher({ baseEnv, runner: (cmd, opts) => (spawned++, run(cmd, opts)) });
  const err = await spy.fetch({ kind: "git", url: daemon.url("pushed"), ref: "main", commit: "abc123" }, dest, { log }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(KilnError);
  expect((err as KilnError).kind).toBe("bad_request");
  expect(spawned).toBe(0);
  expect(existsSync(dest)).toBe(false);
});

/**
 * GitFetcher against a real `git daemon` on 127.0.0.1: default branch, branch, tag and commit
 * sha; clear failures for missing refs and repos; injection attempts refused before any
 * process starts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError, StepError } from "../../src/core/errors.ts";
import type { LogStream } from "../../src/core/logs.ts";
import { Secret } from "../../src/core/secret.ts";
import { type Command, type RunOptions, run } from "../../src/adapters/exec/run.ts";
import { GitFetcher } from "../../src/adapters/sources/git.ts";
import { childEnvOf } from "../../src/config.ts";
import { type GitDaemon, commitFiles, git, makeRepo, startGitDaemon } from "../helpers/git-daemon.ts";

let daemon: GitDaemon;
let first: string; // tagged v1.0, no longer a branch tip
let mainHead: string;
let featureHead: string;

beforeAll(async () => {
  daemon = await startGitDaemon();
  const repo = daemon.repoDir("app");
  first = makeRepo(repo, { "package.json": '{"version":"1"}', "bin/start*": "#!/bin/sh\necho hi\n" });
  git(repo, "tag", "v1.0");
  git(repo, "checkout", "--quiet", "-b", "feature");
  featureHead = commitFiles(repo, { "feature.txt": "feature" }, "feature work");
  git(repo, "checkout", "--quiet", "main");
  mainHead = commitFiles(repo, { "package.json": '{"version":"2"}' }, "v2");
});
afterAll(async () => {
  await daemon?.stop();
});

let work: string;
let dest: string;
let logs: Array<[LogStream, string]>;
const log = (stream: LogStream, text: string) => logs.push([stream, text]);

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "kiln-gitfetch-"));
  mkdirSync(join(work, "d1"));
  dest = join(work, "d1", "src");
  logs = [];
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** As main.ts builds it: git starts from the allow-listed environment. */
const baseEnv = childEnvOf(process.env);
const fetcher = new GitFetcher({ baseEnv });
const fetchGit = (ref?: string, url = daemon.url("app"), token?: Secret) =>
  fetcher.fetch({ kind: "git", url, ref, token }, dest, { log });

describe("fetching", () => {
  test("the default branch", async () => {
    const result = await fetchGit();
    expect(result.commit).toBe(mainHead);
    expect(readFileSync(join(dest, "package.json"), "utf8")).toBe('{"version":"2"}');
    expect(statSync(join(dest, "bin/start")).mode & 0o111).toBe(0o111);
    expect(existsSync(join(dest, ".git"))).toBe(false);
    expect(existsSync(join(dest, "feature.txt"))).toBe(false);
    expect(readdirSync(join(work, "d1"))).toEqual(["src"]);
    expect(logs[0]).toEqual(["system", `fetching ${daemon.url("app")} at the default branch`]);
    expect(logs.at(-1)).toEqual(["system", `checked out commit ${mainHead}`]);
    expect(logs.some(([s, t]) => s === "build" && t.startsWith("Cloning into"))).toBe(true);
  });

  test("a branch", async () => {
    const result = await fetchGit("feature");
    expect(result.commit).toBe(featureHead);
    expect(readFileSync(join(dest, "feature.txt"), "utf8")).toBe("feature");
    expect(readFileSync(join(dest, "package.json"), "utf8")).toBe('{"version":"1"}');
  });

  test("a tag", async () => {
    const result = await fetchGit("v1.0");
    expect(result.commit).toBe(first);
    expect(readFileSync(join(dest, "package.json"), "utf8")).toBe('{"version":"1"}');
  });

  test("a commit sha that is no branch tip", async () => {
    const result = await fetchGit(first);
    expect(result.commit).toBe(first);
    expect(readFileSync(join(dest, "package.json"), "utf8")).toBe('{"version":"1"}');
    expect(existsSync(join(dest, ".git"))).toBe(false);
  });

  test("with a token (sent only in env; unused by git://)", async () => {
    const calls: Command[] = [];
    const spy = new GitFetcher({
      baseEnv,
      runner: (cmd: Command, opts?: RunOptions) => {
        calls.push(cmd);
        return run(cmd, opts);
      },
    });
    const token = new Secret("tok_very_secret_value");
    const result = await spy.fetch({ kind: "git", url: daemon.url("app"), token }, dest, { log });
    expect(result.commit).toBe(mainHead);
    for (const cmd of calls) {
      expect(cmd.argv.join(" ")).not.toContain("tok_very_secret_value");
      expect(cmd.env?.GIT_CONFIG_KEY_0).toBe("http.extraHeader");
      expect(cmd.env?.GIT_CONFIG_VALUE_0).toBeInstanceOf(Secret);
    }
    expect(JSON.stringify(logs)).not.toContain("tok_very_secret_value");
  });
});

describe("failures", () => {
  test("a missing branch", async () => {
    const err = await fetchGit("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toContain("Remote branch nope not found");
    expect((err as StepError).hint).toContain('"nope" exists');
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(join(work, "d1"))).toEqual([]);
  });

  test("a missing commit", async () => {
    const err = await fetchGit("f".repeat(40)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).hint).toContain("exists in the repository");
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(join(work, "d1"))).toEqual([]);
  });

  test("an abbreviated sha gets a hint", async () => {
    const err = await fetchGit(first.slice(0, 8)).catch((e: unknown) => e);
    expect((err as StepError).hint).toContain("full 40-character sha");
  });

  test("a missing repository", async () => {
    const err = await fetchGit(undefined, daemon.url("nothing-here")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(/cloning git:\/\/127\.0\.0\.1:\d+\/nothing-here/);
    expect((err as StepError).hint).toContain("check the URL");
    expect(existsSync(dest)).toBe(false);
  });

  test("cancellation", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(fetcher.fetch({ kind: "git", url: daemon.url("app") }, dest, { log, signal: ac.signal })).rejects.toThrow();
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(join(work, "d1"))).toEqual([]);
  });
});

describe("injection attempts are refused before anything runs", () => {
  const sentinel = join(tmpdir(), `kiln-pwned-${process.pid}`);
  const attempts: Array<{ url: string; ref?: string }> = [
    { url: `--upload-pack=touch ${sentinel}` },
    { url: `-oProxyCommand=touch ${sentinel}` },
    { url: `ext::sh -c touch% ${sentinel}` },
    { url: `ext::sh%20-c%20touch%20${sentinel}` },
    { url: "file:///etc" },
    { url: "/etc" },
    { url: `ssh://-oProxyCommand=touch%20${sentinel}/x` },
    { url: "fd::3" },
    { url: "PLACEHOLDER", ref: `--upload-pack=touch ${sentinel}` },
    { url: "PLACEHOLDER", ref: "-b" },
    { url: "PLACEHOLDER", ref: "main\n--upload-pack=x" },
  ];

  for (const attempt of attempts) {
    test(`url ${JSON.stringify(attempt.url)} ref ${JSON.stringify(attempt.ref ?? null)}`, async () => {
      let spawned = 0;
      const spy = new GitFetcher({
        runner: (cmd, opts) => {
          spawned++;
          return run(cmd, opts);
        },
      });
      const url = attempt.url === "PLACEHOLDER" ? daemon.url("app") : attempt.url;
      const err = await spy.fetch({ kind: "git", url, ref: attempt.ref }, dest, { log }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).kind).toBe("bad_request");
      expect(err).not.toBeInstanceOf(StepError);
      expect(spawned).toBe(0);
      expect(existsSync(sentinel)).toBe(false);
      expect(existsSync(dest)).toBe(false);
      expect(logs).toEqual([]);
    });
  }
});

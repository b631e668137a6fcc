import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StepError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { Command, RunResult } from "../exec/run.ts";
import { GitFetcher, gitFailure } from "./git.ts";

const what = { url: "https://github.com/o/r.git", ref: "main" };

describe("gitFailure", () => {
  test("quotes git's last lines without progress noise", () => {
    const err = gitFailure(["Cloning into '/x'...", "warning: Could not find remote branch main to clone.", "fatal: Remote branch main not found in upstream origin"], what);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toBe(
      "git failed fetching main from https://github.com/o/r.git: warning: Could not find remote branch main to clone.\nfatal: Remote branch main not found in upstream origin",
    );
    expect(err.hint).toContain('"main" exists');
  });

  test.each([
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", "access token"],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/o/r.git/' not found", "check the URL"],
    ["fatal: unable to access 'https://nohost/': Could not resolve host: nohost", "could not be reached"],
    ["git@github.com: Permission denied (publickey).", "access token"],
    ["something odd", "check the repository URL and ref"],
  ])("hint for %p", (line, hint) => {
    expect(gitFailure(line.split("\n"), what).hint).toContain(hint);
  });
});

describe("GitFetcher with a fake runner", () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), "kiln-gitunit-"));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  const result = (r: Partial<RunResult>): RunResult => ({ code: 0, tail: [], timedOut: false, ...r });

  test("a timeout is a StepError and leaves nothing", async () => {
    const fetcher = new GitFetcher({ timeoutMs: 60_000, runner: async () => result({ code: 143, timedOut: true }) });
    const dest = join(parent, "src");
    const err = await fetcher.fetch({ kind: "git", url: what.url }, dest, { log: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toContain("longer than 60 seconds");
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });

  test("passes the base env, the timeout and signal, streams output as build lines, redacts the token", async () => {
    const seen: Array<{ cmd: Command; timeoutMs?: number; baseEnv?: Readonly<Record<string, string>> }> = [];
    const token = new Secret("tok_abcdef");
    const baseEnv = { PATH: "/usr/bin:/bin", HOME: "/root" };
    const fetcher = new GitFetcher({
      baseEnv,
      runner: async (cmd, opts) => {
        seen.push({ cmd, timeoutMs: opts?.timeoutMs, baseEnv: opts?.baseEnv });
        if (cmd.argv.includes("rev-parse")) return result({ tail: ["a".repeat(40)] });
        opts?.onLine?.("stderr", "echo tok_abcdef");
        return result({});
      },
    });
    const lines: string[] = [];
    const out = await fetcher.fetch({ kind: "git", url: what.url, ref: "main", token }, join(parent, "src"), {
      log: (stream, text) => lines.push(`${stream}: ${text}`),
    });
    expect(out.commit).toBe("a".repeat(40));
    expect(seen.map((s) => s.cmd.argv.find((a) => a === "clone" || a === "rev-parse"))).toEqual(["clone", "rev-parse"]);
    for (const s of seen) expect(s.timeoutMs).toBeGreaterThan(9 * 60 * 1000);
    for (const s of seen) expect(s.baseEnv).toEqual(baseEnv);
    expect(lines).toContain("build: echo [secret]");
    expect(lines.join("\n")).not.toContain("tok_abcdef");
  });
});

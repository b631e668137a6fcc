import { describe, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import {
  SAFE_GIT_CONFIG,
  cloneArgv,
  fetchCommitArgvs,
  fetchPlan,
  gitEnv,
  isCommitSha,
  validateGitRef,
  validateGitUrl,
} from "./git-commands.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function badRequest(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe("bad_request");
    return err as KilnError;
  }
  throw new Error("expected a bad_request");
}

describe("validateGitUrl", () => {
  test.each([
    "https://github.com/owner/repo.git",
    "https://github.com/owner/repo",
    "ssh://git@github.com/owner/repo.git",
    "ssh://git@example.com:2222/owner/repo.git",
    "git://127.0.0.1:9418/app",
    "git@github.com:owner/repo.git",
    "github.com:owner/repo.git",
    "deploy@[::1]:repo.git",
  ])("accepts %s", (url) => {
    expect(validateGitUrl(url)).toBe(url);
  });

  test.each([
    ["", "empty"],
    ["--upload-pack=touch /tmp/x", "'-'"],
    ["-oProxyCommand=touch /tmp/x", "'-'"],
    ["ext::sh -c touch% /tmp/x", "whitespace"],
    ["ext::sh", "'<transport>::'"],
    ["fd::17", "'<transport>::'"],
    ["foo::https://example.com/x", "'<transport>::'"],
    ["file:///etc", "local file"],
    ["FILE:///etc", "local file"],
    ["/srv/repos/app", "local paths"],
    ["./app", "local paths"],
    ["../app", "local paths"],
    ["app", "local paths"],
    ["http://example.com/x.git", "http:// scheme"],
    ["ftp://example.com/x.git", "ftp:// scheme"],
    ["https://example.com/x.git\n--upload-pack=x", "whitespace"],
    ["https://example.com/x y", "whitespace"],
    ["https://user:hunter22@github.com/o/r.git", "password"],
    ["ssh://-oProxyCommand=touch%20x/repo", "'-'"],
    ["-host:repo", "'-'"],
    ["git@host:-repo", "path starting with '-'"],
    ["https://github.com/", "no repository path"],
  ])("refuses %p", (url, why) => {
    expect(badRequest(() => validateGitUrl(url)).message).toContain(why);
  });
});

describe("validateGitRef", () => {
  test.each(["main", "feature/x-1", "v1.2.3", "release_2024", SHA, "deadbeef"])("accepts %s", (ref) => {
    expect(validateGitRef(ref)).toBe(ref);
  });
  test.each([
    "",
    "-b",
    "--upload-pack=x",
    "main branch",
    "a\nb",
    "a..b",
    "a//b",
    "/main",
    "main/",
    "main.lock",
    "main.",
    ".hidden",
    "a/.b",
    "HEAD@{1}",
    "a:b",
    "+main",
    "x".repeat(256),
  ])("refuses %p", (ref) => {
    badRequest(() => validateGitRef(ref));
  });
});

test("isCommitSha only for full ids", () => {
  expect(isCommitSha(SHA)).toBe(true);
  expect(isCommitSha("a".repeat(64))).toBe(true);
  expect(isCommitSha("deadbeef")).toBe(false);
  expect(isCommitSha(SHA.toUpperCase())).toBe(false);
});

describe("argv", () => {
  test("clone with the safety config, -- before url and dir", () => {
    expect(cloneArgv("git://h/app", "/tmp/d", "main")).toEqual([
      "git",
      "-c", "protocol.allow=never",
      "-c", "protocol.https.allow=always",
      "-c", "protocol.ssh.allow=always",
      "-c", "protocol.git.allow=always",
      "-c", "protocol.file.allow=never",
      "-c", "protocol.ext.allow=never",
      "-c", "core.hooksPath=/dev/null",
      "clone", "--depth", "1", "--no-recurse-submodules", "--single-branch",
      "--branch", "main",
      "--", "git://h/app", "/tmp/d",
    ]);
    expect(cloneArgv("git://h/app", "/tmp/d")).not.toContain("--branch");
  });

  test("a commit sha becomes init + fetch + checkout FETCH_HEAD", () => {
    const cmds = fetchCommitArgvs("git://h/app", "/tmp/d", SHA);
    for (const argv of cmds) expect(argv.slice(0, SAFE_GIT_CONFIG.length + 1)).toEqual(["git", ...SAFE_GIT_CONFIG]);
    const tails = cmds.map((argv) => argv.slice(SAFE_GIT_CONFIG.length + 1));
    expect(tails).toEqual([
      ["-c", "init.defaultBranch=main", "init", "--quiet", "--", "/tmp/d"],
      ["-C", "/tmp/d", "remote", "add", "origin", "--", "git://h/app"],
      ["-C", "/tmp/d", "fetch", "--depth", "1", "--no-recurse-submodules", "--no-tags", "origin", SHA],
      ["-C", "/tmp/d", "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", "FETCH_HEAD"],
    ]);
    expect(fetchPlan("git://h/app", "/tmp/d", SHA)).toEqual(cmds);
    expect(fetchPlan("git://h/app", "/tmp/d", "main")).toEqual([cloneArgv("git://h/app", "/tmp/d", "main")]);
  });

  test("fetchPlan validates first", () => {
    badRequest(() => fetchPlan("--upload-pack=touch /tmp/x", "/tmp/d"));
    badRequest(() => fetchPlan("git://h/app", "/tmp/d", "--upload-pack=x"));
  });
});

describe("gitEnv", () => {
  test("no prompts, batch ssh, no inherited config, no token", () => {
    const { env, unsetEnv } = gitEnv();
    expect(env).toMatchObject({
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "/bin/true",
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
      GIT_CONFIG_COUNT: "0",
    });
    expect(env!.GIT_CONFIG_VALUE_0).toBeUndefined();
    expect(unsetEnv).toContain("GIT_DIR");
    expect(unsetEnv).toContain("GIT_CONFIG_PARAMETERS");
  });

  test("a token goes into an extraHeader via env, as a Secret", () => {
    const token = new Secret("ghp_supersecret");
    const { env } = gitEnv(token);
    expect(env!.GIT_CONFIG_COUNT).toBe("1");
    expect(env!.GIT_CONFIG_KEY_0).toBe("http.extraHeader");
    const value = env!.GIT_CONFIG_VALUE_0;
    expect(value).toBeInstanceOf(Secret);
    const expected = `Authorization: Basic ${Buffer.from("x-access-token:ghp_supersecret").toString("base64")}`;
    expect((value as Secret).reveal()).toBe(expected);
    expect(JSON.stringify(env)).not.toContain(Buffer.from("x-access-token:ghp_supersecret").toString("base64"));
    // never in argv
    for (const argv of fetchPlan("https://github.com/o/r.git", "/tmp/d", SHA)) {
      expect(argv.join(" ")).not.toContain("ghp_supersecret");
    }
  });
});

/**
 * Git commands as data. Validation runs before anything is spawned: only remote URLs over
 * https, ssh (URL or scp-like) and git are accepted, refs must be plain ref names, and nothing
 * may start with '-'. Every command pins the allowed transports and disables hooks; a token
 * travels only in the environment (GIT_CONFIG_*), never in argv or the URL.
 */
import type { Command } from "../exec/run.ts";
import { badRequest } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";

const URL_HINT = "use an https://, ssh://, git:// URL or git@host:owner/repo.git";

/** Config every git invocation carries, ahead of the subcommand. */
export const SAFE_GIT_CONFIG: readonly string[] = [
  "-c", "protocol.allow=never",
  "-c", "protocol.https.allow=always",
  "-c", "protocol.ssh.allow=always",
  "-c", "protocol.git.allow=always",
  "-c", "protocol.file.allow=never",
  "-c", "protocol.ext.allow=never",
  "-c", "core.hooksPath=/dev/null",
];

/** Variables inherited from a parent git (hooks, test runners) that would redirect or reconfigure us. */
const UNSET_ENV = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_SSH",
  "GIT_PROXY_COMMAND",
  "GIT_EXEC_PATH",
  "GIT_TEMPLATE_DIR",
];

const CONTROL_OR_SPACE = /[\s\x00-\x1f\x7f]/;

/** Throws bad_request unless `url` is a remote git URL Kiln may clone. Returns it unchanged. */
export function validateGitUrl(url: string): string {
  const shown = JSON.stringify(url.slice(0, 120));
  const refuse = (why: string, hint = URL_HINT) => badRequest(`git URL ${shown} ${why}`, hint);
  if (url === "") throw refuse("is empty");
  if (url.length > 2048) throw refuse("is too long");
  if (url.startsWith("-")) throw refuse("must not start with '-'");
  if (CONTROL_OR_SPACE.test(url)) throw refuse("must not contain whitespace or control characters");
  if (/^file:/i.test(url)) throw refuse("is a local file URL, which is not allowed");
  if (url.replace(/\[[0-9A-Fa-f:.]*\]/g, "").includes("::")) throw refuse("uses a '<transport>::' remote helper, which is not allowed");

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme !== "https" && scheme !== "ssh" && scheme !== "git") throw refuse(`uses the ${scheme}:// scheme, which is not allowed`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw refuse("is not a valid URL");
    }
    if (parsed.hostname === "") throw refuse("has no host");
    if (parsed.hostname.startsWith("-") || parsed.username.startsWith("-")) throw refuse("has a host or user starting with '-'");
    if (parsed.password !== "") {
      throw refuse("contains a password", "pass the access token in the token field, not in the URL");
    }
    if (parsed.pathname === "" || parsed.pathname === "/") throw refuse("has no repository path");
    return url;
  }

  // scp-like: [user@]host:path (no "//" before the colon, as git itself decides)
  const scp = /^(?:([A-Za-z0-9._~-]+)@)?([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(.+)$/.exec(url);
  if (scp) {
    const path = scp[3]!;
    if (scp[1]?.startsWith("-")) throw refuse("has a user starting with '-'");
    if (path.startsWith("-")) throw refuse("has a path starting with '-'");
    return url;
  }
  throw refuse("is not a remote repository URL (local paths are not allowed)");
}

/** Throws bad_request unless `ref` is a plain branch, tag or commit name. Returns it unchanged. */
export function validateGitRef(ref: string): string {
  const shown = JSON.stringify(ref.slice(0, 120));
  const refuse = (why: string) =>
    badRequest(`git ref ${shown} ${why}`, "use a branch name, a tag name or a full commit sha");
  if (ref === "") throw refuse("is empty");
  if (ref.length > 255) throw refuse("is too long");
  if (ref.startsWith("-")) throw refuse("must not start with '-'");
  if (CONTROL_OR_SPACE.test(ref)) throw refuse("must not contain whitespace or control characters");
  if (!/^[A-Za-z0-9._\/-]+$/.test(ref)) throw refuse("may only contain letters, digits and . _ / -");
  if (
    ref.includes("..") ||
    ref.includes("//") ||
    ref.startsWith("/") ||
    ref.endsWith("/") ||
    ref.endsWith(".") ||
    ref.endsWith(".lock") ||
    ref.split("/").some((part) => part.startsWith("."))
  ) {
    throw refuse("is not a valid ref name");
  }
  return ref;
}

/** A full commit id (sha-1 or sha-256): fetched by id rather than cloned by name. */
export function isCommitSha(ref: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(ref);
}

function git(args: string[], cwd?: string): string[] {
  return ["git", ...SAFE_GIT_CONFIG, ...(cwd ? ["-C", cwd] : []), ...args];
}

/** Shallow single-branch clone of a branch, tag or the default branch into an empty `dir`. */
export function cloneArgv(url: string, dir: string, ref?: string): string[] {
  return git([
    "clone", "--depth", "1", "--no-recurse-submodules", "--single-branch",
    ...(ref !== undefined ? ["--branch", ref] : []),
    "--", url, dir,
  ]);
}

/** For a commit sha: init, shallow-fetch that one commit, check it out detached. */
export function fetchCommitArgvs(url: string, dir: string, sha: string): string[][] {
  return [
    git(["-c", "init.defaultBranch=main", "init", "--quiet", "--", dir]),
    git(["remote", "add", "origin", "--", url], dir),
    git(["fetch", "--depth", "1", "--no-recurse-submodules", "--no-tags", "origin", sha], dir),
    git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", "FETCH_HEAD"], dir),
  ];
}

/** Depth of the fallback fetch when a server refuses to fetch a commit by its sha. */
export const FALLBACK_DEPTH = 100;

/**
 * After fetchCommitArgvs' fetch was refused (a server that serves only ref tips): fetch the recent
 * history of `ref` (or the remote's HEAD) into the same repository and check out `sha` from it.
 */
export function commitFallbackArgvs(dir: string, sha: string, ref?: string): string[][] {
  return [
    git(["fetch", "--depth", String(FALLBACK_DEPTH), "--no-recurse-submodules", "--no-tags", "origin", ref ?? "HEAD"], dir),
    git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha], dir),
  ];
}

export function revParseHeadArgv(dir: string): string[] {
  return git(["rev-parse", "--verify", "HEAD"], dir);
}

/** The environment for every git command: no prompts, batch ssh, optional token header. */
export function gitEnv(token?: Secret): Pick<Command, "env" | "unsetEnv"> {
  const env: Record<string, string | Secret> = {
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/true",
    SSH_ASKPASS: "/bin/true",
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
    LC_ALL: "C",
    GIT_CONFIG_COUNT: "0",
  };
  if (token) {
    const basic = Buffer.from(`x-access-token:${token.reveal()}`).toString("base64");
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = "http.extraHeader";
    env.GIT_CONFIG_VALUE_0 = new Secret(`Authorization: Basic ${basic}`);
  }
  return { env, unsetEnv: UNSET_ENV };
}

/** All the commands to fetch `url` at `ref` (or exactly `commit`) into the empty directory `dir`, validated. */
export function fetchPlan(url: string, dir: string, ref?: string, commit?: string): string[][] {
  validateGitUrl(url);
  if (ref !== undefined) validateGitRef(ref);
  if (commit !== undefined) {
    if (!isCommitSha(commit)) throw badRequest(`commit ${JSON.stringify(commit.slice(0, 80))} is not a full commit sha`, "give the full 40-character (or 64-character) sha");
    return fetchCommitArgvs(url, dir, commit);
  }
  if (ref !== undefined && isCommitSha(ref)) return fetchCommitArgvs(url, dir, ref);
  return [cloneArgv(url, dir, ref)];
}

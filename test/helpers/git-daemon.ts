/**
 * A real git server for tests: `git daemon` on 127.0.0.1, serving every repository under a
 * temp base directory over git://. Create repositories with `makeRepo(daemon.repoDir(name), files)`.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface GitDaemon {
  /** The git:// URL of the repository at `repoDir(repoName)`. */
  url(repoName: string): string;
  /** Where to create repository `repoName` so the daemon serves it. */
  repoDir(repoName: string): string;
  baseDir: string;
  port: number;
  stop(): Promise<void>;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Kiln Test",
  GIT_AUTHOR_EMAIL: "test@kiln.invalid",
  GIT_COMMITTER_NAME: "Kiln Test",
  GIT_COMMITTER_EMAIL: "test@kiln.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** Run git synchronously in `cwd`; returns trimmed stdout, throws with stderr on failure. */
export function git(cwd: string, ...args: string[]): string {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("GIT_")) env[k] = v;
  const r = Bun.spawnSync(["git", ...args], { cwd, env: { ...env, ...GIT_ENV }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/**
 * Create a repository at `dir` (branch "main") with one commit holding `files`
 * (path → content; a path ending in "*" is written executable, without the star).
 * Returns the commit sha.
 */
export function makeRepo(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "--quiet", "--initial-branch=main");
  return commitFiles(dir, files, "initial commit");
}

/** Write `files` into the repository's work tree and commit them. Returns the commit sha. */
export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  for (const [name, content] of Object.entries(files)) {
    const executable = name.endsWith("*");
    const path = join(dir, executable ? name.slice(0, -1) : name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: executable ? 0o755 : 0o644 });
  }
  git(dir, "add", "--all");
  git(dir, "commit", "--quiet", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}

export async function startGitDaemon(): Promise<GitDaemon> {
  const baseDir = mkdtempSync(join(tmpdir(), "kiln-gitd-"));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(
      ["git", "daemon", "--reuseaddr", "--export-all", `--base-path=${baseDir}`, "--listen=127.0.0.1", `--port=${port}`, baseDir],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    if (await waitForPort(port, proc)) {
      return {
        url: (repoName) => `git://127.0.0.1:${port}/${repoName}`,
        repoDir: (repoName) => join(baseDir, repoName),
        baseDir,
        port,
        async stop() {
          proc.kill("SIGTERM");
          await proc.exited;
          rmSync(baseDir, { recursive: true, force: true });
        },
      };
    }
    proc.kill("SIGKILL");
    await proc.exited;
  }
  rmSync(baseDir, { recursive: true, force: true });
  throw new Error("git daemon did not start");
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function waitForPort(port: number, proc: { exitCode: number | null }): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) return false;
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return true;
    } catch {
      await Bun.sleep(50);
    }
  }
  return false;
}

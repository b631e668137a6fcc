/**
 * Restart the machine's Docker engine for real, as an operator would: the running dockerd (pid from
 * /var/run/docker.pid, argv from /proc/<pid>/cmdline, so it comes back with the same options) gets
 * SIGTERM, is waited for (bounded), and is started again the way scripts/setup.sh starts it (setsid,
 * nohup, log appended to /var/log/kiln-dockerd.log, detached so it outlives this process), then
 * /_ping is awaited (bounded). `ensureDockerd()` belongs in a finally/afterAll: whatever happened, it
 * leaves an engine answering.
 *
 * Without live-restore (`GET /info` LiveRestoreEnabled, off on this machine) stopping dockerd stops
 * every container on the machine, not only a test's: only run this where nothing else uses the engine
 * (CI runs test files one at a time).
 *
 *   const r = await restartDockerd();   // { stoppedAt, exitedAt, answeringAt } (epoch ms)
 */
import { existsSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from "node:fs";

export const DOCKER_SOCKET = "/var/run/docker.sock";
const PID_FILE = "/var/run/docker.pid";
const LOG_FILE = "/var/log/kiln-dockerd.log";
/** How setup.sh starts it, when no dockerd runs to copy the arguments from. */
const DEFAULT_ARGV = ["dockerd"];
/** dockerd stops every container (10 s stop timeout each, in parallel) before it exits. */
const EXIT_TIMEOUT_MS = 90_000;
const PING_TIMEOUT_MS = 60_000;

/** The argv of the dockerd last seen running (so ensureDockerd restarts it the same way). */
let lastArgv: string[] | null = null;

export interface DockerdRestart {
  /** SIGTERM sent. */
  stoppedAt: number;
  /** The old dockerd process gone. */
  exitedAt: number;
  /** The new one answering /_ping. */
  answeringAt: number;
}

/** Whether the engine answers /_ping within `timeoutMs`. */
export async function engineAnswers(timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch("http://docker/_ping", { unix: DOCKER_SOCKET, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

/** `GET /info` LiveRestoreEnabled: with it on, containers keep running while dockerd is down. */
export async function liveRestoreEnabled(): Promise<boolean> {
  const res = await fetch("http://docker/info", { unix: DOCKER_SOCKET } as RequestInit);
  return ((await res.json()) as { LiveRestoreEnabled?: boolean }).LiveRestoreEnabled === true;
}

/** The running dockerd: pid and argv, or null when none runs. */
export function runningDockerd(): { pid: number; argv: string[] } | null {
  if (!existsSync(PID_FILE)) return null;
  const pid = Number(readFileSync(PID_FILE, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  if (!argv[0]?.endsWith("dockerd")) return null;
  lastArgv = argv;
  return { pid, argv };
}

/** Stop dockerd (SIGTERM) and start it again with the same argv; resolves once /_ping answers. */
export async function restartDockerd(): Promise<DockerdRestart> {
  const running = runningDockerd();
  if (!running) throw new Error(`no running dockerd found (${PID_FILE}); start it with scripts/setup.sh`);
  const stoppedAt = Date.now();
  process.kill(running.pid, "SIGTERM");
  await waitUntil(() => !alive(running.pid), EXIT_TIMEOUT_MS, `dockerd (pid ${running.pid}) to exit after SIGTERM`);
  const exitedAt = Date.now();
  startDockerd(running.argv);
  await waitForEngine();
  const answeringAt = Date.now();
  await killStrandedRuncInits();
  return { stoppedAt, exitedAt, answeringAt };
}

/**
 * A container being created when dockerd stops can leave its `runc init` behind, holding a network
 * namespace with the container's IP on Kiln's bridge; the restarted engine has forgotten that address
 * and hands it out again, and the next container given it cannot be reached. That is debris of the
 * test's own restart, not of Kiln: remove it, so the tests after this one find a clean engine.
 */
async function killStrandedRuncInits(): Promise<void> {
  const res = await fetch("http://docker/v1.41/containers/json?all=1", { unix: DOCKER_SOCKET } as RequestInit);
  const known = new Set(((await res.json()) as { Id: string }[]).map((c) => c.Id));
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, 2).join(" ") !== "runc init") continue;
      const id = /\/docker\/([0-9a-f]{64})/.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
      if (id && !known.has(id)) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** Leave an engine answering: start dockerd (last argv seen, or setup.sh's) when /_ping fails. */
export async function ensureDockerd(): Promise<void> {
  if (await engineAnswers()) return;
  const running = runningDockerd();
  if (running) {
    // still starting, or still stopping: give it the time either takes
    if (await waitForEngine().then(() => true, () => false)) return;
    process.kill(running.pid, "SIGTERM");
    await waitUntil(() => !alive(running.pid), EXIT_TIMEOUT_MS, `dockerd (pid ${running.pid}) to exit`).catch(() => process.kill(running.pid, "SIGKILL"));
  }
  startDockerd(lastArgv ?? DEFAULT_ARGV);
  await waitForEngine();
}

/** Wait (bounded) for /_ping to answer. */
export async function waitForEngine(timeoutMs = PING_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await engineAnswers(1000))) {
    if (Date.now() > deadline) throw new Error(`the Docker engine did not answer /_ping within ${timeoutMs / 1000} s; see ${LOG_FILE}:\n${logTail()}`);
    await Bun.sleep(100);
  }
}

/** Start dockerd detached: its own session (setsid -f), SIGHUP ignored (nohup), output appended to the log. */
function startDockerd(argv: string[]): void {
  // A stale pid file from a dockerd that did not exit cleanly stops a new one from starting.
  if (existsSync(PID_FILE) && !alive(Number(readFileSync(PID_FILE, "utf8").trim()))) rmSync(PID_FILE, { force: true });
  const log = openSync(LOG_FILE, "a");
  try {
    const proc = Bun.spawn(["setsid", "-f", "nohup", ...argv], { stdin: "ignore", stdout: log, stderr: log });
    proc.unref();
  } finally {
    closeSync(log);
  }
}

/** Running: /proc/<pid> exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
}

async function waitUntil(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await Bun.sleep(100);
  }
}

function logTail(): string {
  try {
    return readFileSync(LOG_FILE, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

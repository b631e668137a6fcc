/** The process supervisor with real processes: spawn, log, death, restart, adoption, termination. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, Supervisor, adoptPid, logTail, nextBackoff, pidRunning, spawnChild, terminate } from "./supervisor.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-supervisor-"));
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const bun = process.execPath;
/** A bun process running `code`, its output in `log`. */
const script = (code: string, log = join(dir, "child.log")) => spawnChild({ argv: [bun, "-e", code], env, logFile: log });
const forever = "setInterval(() => {}, 1 << 30)";
/** Resolves once the child has printed "ready" (it runs its own code by then). */
async function ready(child: Child): Promise<void> {
  while (!logTail(child, 1).includes("ready")) await Bun.sleep(10);
}
const started: Child[] = [];
afterAll(async () => {
  for (const c of started) await terminate(c, 100);
  rmSync(dir, { recursive: true, force: true });
});

test("backoff doubles up to its cap", () => {
  expect(nextBackoff(500, 10_000)).toEqual({ delayMs: 500, nextMs: 1000 });
  expect(nextBackoff(8000, 10_000)).toEqual({ delayMs: 8000, nextMs: 10_000 });
});

test("a child gets exactly the environment given, and its output is appended to its log", async () => {
  const log = join(dir, "env.log");
  writeFileSync(log, "an earlier run\n");
  const child = spawnChild({ argv: ["env"], env: { PATH: env.PATH, ONLY: "this" }, logFile: log });
  expect(await child.exited).toBe("code 0");
  expect(readFileSync(log, "utf8")).toBe(`an earlier run\nPATH=${env.PATH}\nONLY=this\n`);
  expect(logTail(child, 5)).toEqual([`PATH=${env.PATH}`, "ONLY=this"]);
});

test("a watched child that dies is restarted; one that was stopped is not", async () => {
  const lines: string[] = [];
  const restarted = Promise.withResolvers<Child>();
  const sup: Supervisor = new Supervisor({
    name: "worker",
    log: (l) => lines.push(l),
    backoff: { initialMs: 10 },
    restart: async () => {
      const next = script(forever);
      sup.watch(next);
      restarted.resolve(next);
    },
  });
  const first = script(forever);
  sup.watch(first);
  first.kill("SIGKILL");
  const second = await restarted.promise;
  expect(lines).toEqual([`worker (pid ${first.pid}) exited with SIGKILL; restarting`]);
  expect(sup.current).toBe(second);
  await sup.stop(1000);
  expect(second.running()).toBe(false);
  expect(sup.current).toBeNull();
  expect(lines).toHaveLength(1); // its exit, after stop, was no crash
});

test("an adopted pid is known by its argv, and its death is noticed by polling", async () => {
  const child = script(`console.log("ready"); ${forever} // kiln-adopt-me`, join(dir, "other.log"));
  const worker = spawnChild({ argv: [bun, "-e", `console.log("ready"); ${forever}`, "kiln-adopt-me"], env, logFile: join(dir, "w.log") });
  started.push(child, worker);
  await Promise.all([ready(child), ready(worker)]);
  expect(pidRunning(child.pid, "kiln-adopt-me")).toBe(false); // the word must be a whole argv entry
  expect(pidRunning(worker.pid, "kiln-adopt-me")).toBe(true);
  const controller = new AbortController();
  const adopted = adoptPid(worker.pid, { argvHas: "kiln-adopt-me", pollMs: 20, signal: controller.signal });
  expect(adopted.running()).toBe(true);
  await terminate(adopted, 1000);
  expect(await adopted.exited).toBe("");
  expect(pidRunning(worker.pid)).toBe(false);
});

test("terminate escalates to SIGKILL when SIGTERM is ignored", async () => {
  const child = script(`process.on("SIGTERM", () => {}); console.log("ready"); ${forever}`, join(dir, "stubborn.log"));
  started.push(child);
  await ready(child); // its SIGTERM handler is in place
  await terminate(child, 200);
  expect(await child.exited).toBe("SIGKILL");
});

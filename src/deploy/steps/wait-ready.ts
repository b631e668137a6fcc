/**
 * Step 4: wait until the app answers HTTP on its published address. Docker's port proxy accepts
 * TCP connections even when nothing listens inside, so a TCP connect proves nothing: any HTTP
 * response (whatever its status) does. A container that exits meanwhile fails the step with its
 * last log lines.
 */
import { StepError } from "../../core/errors.ts";
import type { ContainerInfo, ContainerRuntime } from "../../core/ports/runtime.ts";
import type { Step } from "../context.ts";

const POLL_MS = 50;

export const waitReady: Step = {
  name: "healthy",
  title: "waiting for the app to accept connections",
  async run(ctx, deps) {
    const upstream = ctx.upstream;
    const id = ctx.containerId;
    if (!upstream || !id) throw new StepError("no container to wait for");
    const deadline = Date.now() + deps.config.readyTimeoutMs;
    let checks = 0;
    while (Date.now() < deadline) {
      ctx.signal.throwIfAborted();
      if (await answersHttp(upstream)) return;
      if (++checks % 10 === 0) {
        const info = await deps.runtime.inspectContainer(id);
        if (!info || !info.running || info.status === "restarting" || info.restartCount > 0) {
          const exit = await lastExit(deps.runtime, id, info);
          const tail = await deps.runtime.tailLogs(id, 20).catch(() => []);
          throw new StepError(
            `the app's container ${exit} before accepting connections${tail.length ? `; last lines:\n${tail.join("\n")}` : ""}`,
            "check the start command and that the app listens on $PORT",
          );
        }
      }
      await Bun.sleep(POLL_MS);
    }
    throw new StepError(
      `the app did not accept HTTP connections within ${Math.round(deps.config.readyTimeoutMs / 1000)} s`,
      "make sure it listens on 0.0.0.0:$PORT",
    );
  },
};

/**
 * How the container ended, e.g. "exited with code 3". The engine shows the exit code only while
 * the container is down or waiting to be restarted: restarting it (the on-failure policy) resets
 * it to 0. So when it is already running again, watch briefly for its next exit.
 */
async function lastExit(runtime: ContainerRuntime, id: string, first: ContainerInfo | null): Promise<string> {
  const deadline = Date.now() + 3000;
  let info = first;
  while (info) {
    if (!info.running || info.status === "restarting") return `exited with code ${info.exitCode}`;
    if (Date.now() > deadline) return `crashed and was restarted ${info.restartCount} time(s)`;
    await Bun.sleep(25);
    info = await runtime.inspectContainer(id);
  }
  return "disappeared";
}

async function answersHttp(upstream: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${upstream}/`, { signal: AbortSignal.timeout(2000), redirect: "manual" });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * Step 4: wait until the app answers HTTP on its published address. Docker's port proxy accepts
 * TCP connections even when nothing listens inside, so a TCP connect proves nothing: any HTTP
 * response (whatever its status) does. A container that exits meanwhile fails the step with its
 * last log lines.
 */
import { StepError } from "../../core/errors.ts";
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
        if (!info || !info.running || info.restartCount > 0) {
          const tail = await deps.runtime.tailLogs(id, 20).catch(() => []);
          const exit = info ? `exited with code ${info.exitCode}` : "disappeared";
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

async function answersHttp(upstream: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${upstream}/`, { signal: AbortSignal.timeout(2000), redirect: "manual" });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * Step 4: wait until the app answers HTTP on its published address (src/containers/readiness.ts).
 * A container that exits meanwhile fails the step with its exit code and last log lines.
 */
import { StepError } from "../../core/errors.ts";
import { NotReady, type NotReadyReason, waitUntilReady } from "../../containers/readiness.ts";
import type { Step } from "../context.ts";

const HINTS: Record<NotReadyReason, string> = {
  exited: "check the start command and that the app listens on $PORT",
  unhealthy: "check the start command and that the app listens on $PORT",
  timeout: "make sure it listens on 0.0.0.0:$PORT",
};

export const waitReady: Step = {
  name: "healthy",
  title: "waiting for the app to accept connections",
  async run(ctx, deps) {
    const upstream = ctx.upstream;
    const id = ctx.containerId;
    if (!upstream || !id) throw new StepError("no container to wait for");
    const probe = { kind: "http", address: upstream } as const;
    await waitUntilReady({ runtime: deps.runtime, containerId: id, probe, timeoutMs: deps.config.readyTimeoutMs, signal: ctx.signal, name: "the app's container" }).catch(
      (err: unknown) => {
        throw err instanceof NotReady ? new StepError(err.message, HINTS[err.reason]) : err;
      },
    );
  },
};

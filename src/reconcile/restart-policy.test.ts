import { describe, expect, test } from "bun:test";
import { DEFAULT_RESTART_POLICY as P, initialRestartState, isCrashLooping, nextDelay, recordExit, recordRestart, recordUp, restartAllowed } from "./restart-policy.ts";

describe("restart policy", () => {
  test("the backoff doubles from 1 s and stops at 5 min", () => {
    let s = initialRestartState();
    const delays: number[] = [];
    for (let i = 0; i < 11; i++) {
      delays.push(nextDelay(s));
      s = recordRestart(s);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000]);
    for (let i = 0; i < 100; i++) s = recordRestart(s);
    expect(nextDelay(s)).toBe(300000);
  });

  test("a first exit is not a crash loop; the fifth within 10 min is", () => {
    let s = initialRestartState();
    const t0 = 1_000_000;
    s = recordExit(s, t0);
    expect(isCrashLooping(s, t0)).toBe(false);
    for (let i = 1; i < 4; i++) s = recordExit(s, t0 + i * 1000);
    expect(isCrashLooping(s, t0 + 4000)).toBe(false);
    s = recordExit(s, t0 + 5000);
    expect(isCrashLooping(s, t0 + 5000)).toBe(true);
  });

  test("exits older than the window do not count, and are dropped", () => {
    let s = initialRestartState();
    for (let i = 0; i < 4; i++) s = recordExit(s, i * 1000);
    s = recordExit(s, P.windowMs + 2500); // the first three are out of the window
    expect(s.exits).toEqual([3000, P.windowMs + 2500]);
    expect(isCrashLooping(s, P.windowMs + 2500)).toBe(false);
  });

  test("an app that stayed up long enough is forgiven; a short run is not", () => {
    let s = recordRestart(recordRestart(recordExit(recordExit(initialRestartState(), 1), 2)));
    expect(recordUp(s, 10_000, 10_000 + P.stableMs - 1)).toEqual(s);
    s = recordUp(s, 10_000, 10_000 + P.stableMs);
    expect(s).toEqual(initialRestartState());
    expect(nextDelay(s)).toBe(1000);
  });
});

describe("the app's restart policy", () => {
  test("always restarts; on-failure not after exit 0; never only repairs a container that vanished", () => {
    const table = (policy: "always" | "on-failure" | "never") => [0, 1, 137, undefined].map((code) => restartAllowed({ restartPolicy: policy }, code));
    expect(table("always")).toEqual([true, true, true, true]);
    expect(table("on-failure")).toEqual([false, true, true, true]);
    expect(table("never")).toEqual([false, false, false, true]);
  });
});

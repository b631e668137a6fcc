import { describe, expect, test } from "bun:test";
import { MAX_KEYS, RequestWindow } from "./request-window.ts";

describe("RequestWindow", () => {
  test("counts per key by status class, with latency; drain starts the next interval", () => {
    const w = new RequestWindow();
    for (const status of [200, 201, 302, 404, 500, 101]) w.add("a", { host: "a", uri: "/", status, durationMs: 5 });
    w.add("b", { host: "b", uri: "/", status: 200, durationMs: 50 });
    const out = w.drain();
    expect(out.get("a")!.count).toBe(6);
    expect(out.get("a")!.status).toEqual({ "2xx": 2, "3xx": 1, "4xx": 1, "5xx": 1 });
    expect(out.get("b")!.latency.quantile(0.5)! / 50).toBeCloseTo(1, 1);
    expect(w.drain().size).toBe(0);
  });

  test("bounded: requests for unknown keys beyond MAX_KEYS are dropped and counted; known keys are always taken", () => {
    const w = new RequestWindow();
    const e = { host: "x", uri: "/", status: 200, durationMs: 1 };
    for (let i = 0; i < MAX_KEYS + 5; i++) w.add(`h${i}`, e);
    w.add("h0", e);
    w.add("id:app", e, true);
    expect(w.dropped).toBe(5);
    const out = w.drain();
    expect(out.size).toBe(MAX_KEYS + 1);
    expect(out.get("h0")!.count).toBe(2);
    expect(out.get("id:app")!.count).toBe(1);
    w.add("fresh", e);
    expect(w.drain().size).toBe(1);
  });
});

import { describe, expect, test } from "bun:test";
import { KilnError } from "../../core/errors.ts";
import { EngineHttp, engineError, queryString, readJsonLines, streamError } from "./http.ts";

describe("queryString", () => {
  test("skips undefined, booleans as 1/0, arrays repeat", () => {
    expect(queryString({ a: undefined, b: true, c: false, d: 5, e: ["x", "y"] })).toBe("?b=1&c=0&d=5&e=x&e=y");
    expect(queryString({})).toBe("");
  });
});

describe("engineError", () => {
  test("maps engine statuses to error kinds", () => {
    expect(engineError(404, "No such container: x", "GET /x").kind).toBe("not_found");
    expect(engineError(409, "name in use", "POST /c").kind).toBe("conflict");
    expect(engineError(400, "bad", "POST /c").kind).toBe("bad_request");
    const e = engineError(500, "driver failed", "POST /containers/x/start");
    expect(e.kind).toBe("unavailable");
    expect(e.message).toBe("docker: driver failed");
  });

  test("a 403 (a socket proxy's refusal) names the request to allow", () => {
    const e = engineError(403, "403 Forbidden", "GET /networks");
    expect(e.kind).toBe("unavailable");
    expect(e.hint).toContain("GET /networks was refused (HTTP 403) by a proxy in front of the Docker socket");
  });
});

describe("EngineHttp", () => {
  test("a missing socket is 'unavailable' with a hint to start dockerd", async () => {
    const http = new EngineHttp("/nonexistent/docker.sock", "v1.41");
    const err = await http.request({ path: "/_ping" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe("unavailable");
    expect((err as KilnError).message).toContain("/nonexistent/docker.sock");
    expect((err as KilnError).hint).toContain("dockerd");
  });
});

describe("JSON-lines streams", () => {
  test("messages split across chunks; junk lines skipped", async () => {
    const body = new Blob(['{"stream":"a"}\n{"str', 'eam":"b"}\nnot json\n{"error":"x"}']).stream();
    const msgs: unknown[] = [];
    await readJsonLines(body, (m) => msgs.push(m));
    expect(msgs).toEqual([{ stream: "a" }, { stream: "b" }, { error: "x" }]);
  });

  test("streamError prefers errorDetail", () => {
    expect(streamError({ errorDetail: { message: "detailed" }, error: "short" })).toBe("detailed");
    expect(streamError({ error: "short" })).toBe("short");
    expect(streamError({ stream: "ok" })).toBeNull();
  });
});

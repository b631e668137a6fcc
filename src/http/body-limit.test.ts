/** The caps by app.request (the streaming cases, over TCP: test/e2e/bad-input.test.ts "body caps"). */
import { expect, test } from "bun:test";
import { Hono } from "hono";
import { bodyLimits, formatCap } from "./body-limit.ts";

const app = new Hono();
app.use("*", bodyLimits(1024, ["/upload"]));
app.post("/json", async (c) => c.json({ got: (await c.req.text()).length }));
app.post("/upload", async (c) => c.json({ got: (await c.req.arrayBuffer()).byteLength }));
app.post("/refuse", (c) => c.json({ error: "no" }, 400));

const stream = (bytes: number) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes; at += 256) controller.enqueue(new Uint8Array(Math.min(256, bytes - at)));
      controller.close();
    },
  });

test("a JSON route takes a body up to the cap, declared or streamed", async () => {
  expect(await (await app.request("/json", { method: "POST", body: "x".repeat(1024) })).json()).toEqual({ got: 1024 });
  expect(await (await app.request("/json", { method: "POST", body: stream(1024), headers: { "transfer-encoding": "chunked" } })).json()).toEqual({ got: 1024 });
});

test("over the cap → 413 naming it, and the connection is closed", async () => {
  for (const init of [{ body: "x".repeat(1025) }, { body: stream(5000), headers: { "transfer-encoding": "chunked" } }]) {
    const res = await app.request("/json", { method: "POST", ...init });
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("the request body is over the 1 KiB cap for JSON requests");
  }
});

test("the upload route is left to its own cap", async () => {
  expect(await (await app.request("/upload", { method: "POST", body: "x".repeat(5000) })).json()).toEqual({ got: 5000 });
});

test("any refusal of a request with a body closes the connection; other answers keep it", async () => {
  expect((await app.request("/refuse", { method: "POST", body: "{}" })).headers.get("connection")).toBe("close");
  expect((await app.request("/json", { method: "POST", body: "{}" })).headers.get("connection")).toBeNull();
});

test("formatCap", () => {
  expect([formatCap(1024 * 1024), formatCap(200 * 1024 * 1024), formatCap(64 * 1024), formatCap(1000)]).toEqual(["1 MiB", "200 MiB", "64 KiB", "1000 bytes"]);
});

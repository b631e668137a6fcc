import { afterAll, expect, test } from "bun:test";
import { FORWARDED, forwardToPeers } from "./forward.ts";

const seen: { path: string; headers: Record<string, string>; body: string }[] = [];
const peer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    seen.push({ path: `${url.pathname}${url.search}`, headers: Object.fromEntries(req.headers), body: await req.text() });
    return Response.json({ error: { message: "pool full" } }, { status: 503, headers: { "retry-after": "2", "x-internal": "no" } });
  },
});
/** A port nothing listens on: a peer whose row is not yet stale but which is gone. */
const gone = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
const goneUrl = `http://127.0.0.1:${gone.port}`;
gone.stop(true);
afterAll(() => peer.stop(true));

test("the first peer that answers is the answer; a gone one is skipped; the caller's credentials and the mark go along", async () => {
  const res = await forwardToPeers([goneUrl, `http://127.0.0.1:${peer.port}/`], {
    method: "POST",
    pathAndQuery: "/api/v1/tenants/t1/release?x=1",
    body: '{"workload":"w"}',
    headers: { authorization: "Bearer tok", "content-type": "application/json", cookie: undefined },
  });
  expect(res?.status).toBe(503);
  expect(res?.headers.get("retry-after")).toBe("2");
  expect(res?.headers.get("x-internal")).toBeNull();
  expect(await res?.json()).toEqual({ error: { message: "pool full" } });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ path: "/api/v1/tenants/t1/release?x=1", body: '{"workload":"w"}' });
  expect(seen[0]!.headers).toMatchObject({ authorization: "Bearer tok", "content-type": "application/json", [FORWARDED]: "1" });
  expect(seen[0]!.headers.cookie).toBeUndefined();
});

test("no peer answers: null (the caller says so)", async () => {
  expect(await forwardToPeers([], { method: "POST", pathAndQuery: "/", body: null, headers: {} })).toBeNull();
  expect(await forwardToPeers([goneUrl], { method: "POST", pathAndQuery: "/", body: null, headers: {} })).toBeNull();
});

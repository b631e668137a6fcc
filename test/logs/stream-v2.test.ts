/**
 * The log stream protocol v2 against a real Kiln (README "Log streams"): lines in batches, the
 * end-of-replay marker then the live tail, a resume with no gap and no duplicate, a reader that
 * does not read cut with the seq to resume from, and v1 (no `v`) unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine } from "../../src/core/logs.ts";
import { CLOSE_CUT, type LogFrame } from "../../src/http/log-frames.ts";
import { KilnClient } from "../../src/client/api-client.ts";
import { failedDeployment, startTestKiln, type TestKiln } from "../helpers/kiln.ts";
import { collectFrames, gatedProxy, nonReadingClient, parseRawFrames } from "../helpers/ws-frames.ts";

let kiln: TestKiln;
let id: string;
const tmp = mkdtempSync(join(tmpdir(), "kiln-logs-v2-"));

const wsUrl = (since: number, v: string | null = "2") =>
  `${kiln.apiUrl.replace("http", "ws")}/api/v1/deployments/${id}/logs?since=${since}${v ? `&v=${v}` : ""}&token=${kiln.token}`;
const seqs = (lines: LogLine[]) => lines.map((l) => l.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(async () => {
  kiln = await startTestKiln();
  // A deployment whose build fails at once (nothing to build): a log stream to publish into.
  id = await failedDeployment(kiln, "stream-v2");
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe("log stream v2", () => {
  test("the replay arrives in batches, then the marker, then live lines", async () => {
    for (let i = 1; i <= 5000; i++) kiln.bus.publish(id, "runtime", `replay line ${i}`);
    await kiln.bus.flush(); // part from the store, part from memory: both must batch
    for (let i = 1; i <= 500; i++) kiln.bus.publish(id, "build", `in memory ${i}`);
    const last = await kiln.bus.lastSeq(id);

    let published = false;
    const got = await collectFrames(wsUrl(1), (c) => {
      const marker = c.frames.findIndex((f) => f.type === "replayed");
      if (marker >= 0 && !published) {
        published = true;
        kiln.bus.publish(id, "runtime", "live one\nlive two");
      }
      return c.lines.some((l) => l.text === "live two");
    });
    const markerAt = got.frames.findIndex((f) => f.type === "replayed");
    expect(got.frames[markerAt]).toEqual({ type: "replayed", seq: last });
    const before = got.frames.slice(0, markerAt).flatMap((f) => (f.type === "lines" ? f.lines : []));
    expect(seqs(before)).toEqual(range(1, last));
    expect(markerAt).toBeLessThan(last / 50); // many lines a frame
    const after = got.frames.slice(markerAt + 1).flatMap((f) => (f.type === "lines" ? f.lines : []));
    expect(after.map((l) => [l.seq, l.text])).toEqual([
      [last + 1, "live one"],
      [last + 2, "live two"],
    ]);
  }, 60_000);

  test("a stream resumed with since=N starts at N: no gap, no duplicate", async () => {
    const last = await kiln.bus.lastSeq(id);
    const from = Math.floor(last / 2);
    const got = await collectFrames(wsUrl(from), (c) => c.frames.some((f) => f.type === "replayed"));
    expect(seqs(got.lines)).toEqual(range(from, last));
    expect(got.frames.at(-1)).toEqual({ type: "replayed", seq: last });
    // Past the end: nothing to replay, the marker says where the stream stands.
    const empty = await collectFrames(wsUrl(last + 1), (c) => c.frames.length > 0);
    expect(empty.frames).toEqual([{ type: "replayed", seq: last }]);
  }, 60_000);

  test("a reader that does not read is cut with the seq to resume from; resuming there loses nothing", async () => {
    const start = (await kiln.bus.lastSeq(id)) + 1;
    const url = new URL(wsUrl(start));
    const client = await nonReadingClient(url.hostname, Number(url.port), `${url.pathname}${url.search}`);
    const big = "x".repeat(8000);
    let last = 0;
    for (let i = 0; i < 6000; i++) {
      last = kiln.bus.publish(id, "runtime", `${i} ${big}`).seq;
      if (i % 500 === 0) await Bun.sleep(1); // let the socket move what it can
    }
    const { texts, closeCode } = parseRawFrames(await client.drain());
    const frames = texts.map((t) => JSON.parse(t) as LogFrame);
    expect(closeCode).toBe(CLOSE_CUT);
    const cut = frames.at(-1);
    expect(cut?.type).toBe("cut");
    const resumeFrom = (cut as { resumeFrom: number }).resumeFrom;
    const received = frames.flatMap((f) => (f.type === "lines" ? f.lines : []));
    expect(seqs(received)).toEqual(range(start, resumeFrom - 1));
    expect(resumeFrom).toBeLessThan(last); // cut well before the end: Kiln did not keep the rest queued

    // The resumed replay (~23 MB, well over the 8 MiB bound) is paced to the reader, not cut.
    const resumed = await collectFrames(wsUrl(resumeFrom), (c) => c.frames.some((f) => f.type === "replayed"));

    expect(seqs(resumed.lines)).toEqual(range(resumeFrom, last));
  }, 120_000);

  test("the client (kiln logs -f) resumes after a cut with no gap and no duplicate", async () => {
    const url = new URL(kiln.apiUrl);
    const proxy = await gatedProxy(url.hostname, Number(url.port));
    const api = new KilnClient({ baseUrl: `http://127.0.0.1:${proxy.port}`, token: kiln.token });
    const from = (await kiln.bus.lastSeq(id)) + 1;
    const got: number[] = [];
    let connections = 0;
    let target = Infinity;
    let reached: () => void = () => {};
    const done = new Promise<void>((r) => (reached = r));
    const stream = api.streamLogs(id, {
      since: from,
      follow: true,
      onLines: (lines) => {
        for (const l of lines) got.push(l.seq);
      },
      // Each connection ends its replay with a marker: the resumed one's comes after the last line.
      onReplayed: () => {
        connections++;
        if (got.at(-1)! >= target) reached();
      },
    });
    while (connections === 0) await Bun.sleep(5); // live: what follows is the tail
    // The reader stops reading while ~40 MB is published: Kiln cuts it.
    await proxy.hold();
    const big = "y".repeat(8000);
    for (let i = 0; i < 5000; i++) target = kiln.bus.publish(id, "runtime", `${i} ${big}`).seq;
    await proxy.release();
    await done;
    stream.close();
    await stream.done;
    proxy.stop();
    expect(connections).toBeGreaterThanOrEqual(2); // it was cut and came back
    expect(got).toEqual(range(from, target));
  }, 120_000);

  test("v1 (no v) still sends one bare LogLine per message", async () => {
    const last = await kiln.bus.lastSeq(id);
    const lines = await kiln.logs(id, { since: last - 2, until: (ls) => ls.length === 3 });
    expect(lines.map((l) => l.seq)).toEqual([last - 2, last - 1, last]);
    const bad = await kiln.api(`/deployments/${id}/logs?v=3`, { headers: { upgrade: "websocket" } });
    expect(bad.status).toBe(400);
  }, 30_000);
});
